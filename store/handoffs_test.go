package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestHandoff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		h := access.Handoff{Token: "jwt", RedirectURL: "/dash?x=1", MaxAge: 3600, AppSessionHash: "bound"}
		if err := db.CreateHandoff(ctx, "n-good", "app.example.com", h, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateHandoff(ctx, "n-expired", "app.example.com", h, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		var stored int
		if err := db.sql.QueryRow(`SELECT COUNT(*) FROM handoffs WHERE nonce_hash = ?`, "n-good").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != 0 {
			t.Error("nonce stored in clear")
		}

		tests := []struct {
			name, nonce, host string
			wantErr           error
		}{
			{"unknown", "n-unknown", "app.example.com", ErrNotFound},
			{"foreign host", "n-good", "evil.example.com", ErrNotFound},
			{"expired", "n-expired", "app.example.com", ErrNotFound},
			{"another browser", "n-good", "app.example.com", ErrOtherBrowser},
			{"first use", "n-good", "APP.example.com", nil},
			{"second use", "n-good", "app.example.com", ErrNonceConsumed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				session := "bound"
				if tt.name == "another browser" {
					session = "other"
				}
				got, err := db.ConsumeHandoff(ctx, tt.nonce, tt.host, session, now)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr != nil && err == nil) {
					t.Fatalf("ConsumeHandoff = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == nil && !reflect.DeepEqual(got, h) {
					t.Errorf("payload = %+v, want %+v", got, h)
				}
			})
		}
		// A delivered hand-off keeps no copy of the app token it carried.
		var payload string
		if err := db.sql.QueryRow(`SELECT payload FROM handoffs WHERE used_at IS NOT NULL`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(payload, "jwt") {
			t.Errorf("consumed hand-off still holds its token: %q", payload)
		}
	})
}

func TestHandoffCleanup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		if err := db.CreateHandoff(ctx, "stale", "a.example.com", access.Handoff{}, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateHandoff(ctx, "recent", "a.example.com", access.Handoff{}, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateHandoff(ctx, "fresh", "a.example.com", access.Handoff{}, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.sql.QueryRow(`SELECT COUNT(*) FROM handoffs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("handoffs = %d, want 2 (stale one deleted)", n)
		}
	})
}
