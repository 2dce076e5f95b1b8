package store

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestLedgerCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		if _, err := db.UpsertUser(ctx, "alice@example.com", "pin", now); err != nil {
			t.Fatal(err)
		}
		u, _ := db.UserByEmail(ctx, "alice@example.com")
		for _, nonce := range []string{"n1", "n2"} {
			if err := db.CreateSession(ctx, access.Session{Nonce: nonce, Identity: access.Identity{UserID: u.ID, Email: u.Email}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.RevokeSession(ctx, "n1", "", now); err != nil { // a sign-out
			t.Fatal(err)
		}
		if _, err := db.RevokeUser(ctx, u.Email, "cli:root", now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RevokeApp(ctx, "demo", "aud1", true, "api:ops", now); err != nil {
			t.Fatal(err)
		}
		n, last, err := db.CountRevocationsSince(ctx, 0)
		if err != nil || n != 2 || last != 3 {
			t.Fatalf("CountRevocationsSince(0) = %d, %d, %v; want 2 (the sign-out left out), 3", n, last, err)
		}
		if n, l, _ := db.CountRevocationsSince(ctx, last); n != 0 || l != last {
			t.Fatalf("nothing new: %d, %d", n, l)
		}

		for _, e := range []access.Event{
			{Kind: access.EventKeyRotated, Detail: access.KeyRotationDetail(access.KeyRotationManual, "k1")},
			{Kind: access.EventRevoked, Detail: "manual: not a rotation"},
			{Kind: access.EventKeyRotated, Detail: access.KeyRotationDetail(access.KeyRotationSchedule, "k2")},
			{Kind: access.EventKeyRotated, Detail: access.KeyRotationDetail(access.KeyRotationManual, "k3")},
		} {
			e.Time = now
			if err := db.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		by, last, err := db.CountKeyRotationsSince(ctx, 0)
		if err != nil || by["manual"] != 2 || by["schedule"] != 1 || len(by) != 2 || last != 4 {
			t.Fatalf("CountKeyRotationsSince(0) = %v, %d, %v", by, last, err)
		}
		if by, _, _ := db.CountKeyRotationsSince(ctx, 2); by["manual"] != 1 || by["schedule"] != 1 {
			t.Fatalf("CountKeyRotationsSince(2) = %v", by)
		}
	})
}
