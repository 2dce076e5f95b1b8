package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUseAssertionID(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		tests := []struct {
			name    string
			id      string
			expires time.Time
			now     time.Time
			wantErr error
		}{
			{name: "first use", id: "a1", expires: now.Add(5 * time.Minute), now: now},
			{name: "replay", id: "a1", expires: now.Add(5 * time.Minute), now: now.Add(time.Minute), wantErr: ErrAssertionReplayed},
			{name: "other id", id: "a2", expires: now.Add(5 * time.Minute), now: now},
			{name: "after expiry the entry is purged", id: "a1", expires: now.Add(20 * time.Minute), now: now.Add(10 * time.Minute)},
			{name: "replay of the new entry", id: "a1", expires: now.Add(20 * time.Minute), now: now.Add(11 * time.Minute), wantErr: ErrAssertionReplayed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.UseAssertionID(ctx, tt.id, tt.expires, tt.now)
				if tt.wantErr == nil && err != nil {
					t.Fatalf("UseAssertionID: %v", err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("UseAssertionID = %v, want %v", err, tt.wantErr)
				}
			})
		}
		if err := db.UseAssertionID(ctx, "", now, now); err == nil {
			t.Error("empty id accepted")
		}
	})
}
