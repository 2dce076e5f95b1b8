package store

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"
)

var clientIDPattern = regexp.MustCompile(`^[0-9a-f]{32}\.access$`)

func TestServiceTokenLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		id, secret, err := db.CreateServiceToken(ctx, "ci bot", time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		if !clientIDPattern.MatchString(id) || len(secret) != 64 {
			t.Fatalf("client id %q / secret length %d", id, len(secret))
		}
		var stored string
		if err := db.sql.QueryRowContext(ctx, `SELECT secret_hash FROM service_tokens WHERE client_id = ?`, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == secret || len(stored) != 64 {
			t.Fatalf("secret stored as %q", stored)
		}

		tests := []struct {
			name   string
			id     string
			secret string
			at     time.Time
			ok     bool
		}{
			{"valid", id, secret, now.Add(time.Minute), true},
			{"wrong secret", id, secret[:63] + "x", now, false},
			{"empty secret", id, "", now, false},
			{"unknown id", "00000000000000000000000000000000.access", secret, now, false},
			{"expired", id, secret, now.Add(time.Hour), false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				name, ok := db.CheckServiceToken(tc.id, tc.secret, tc.at)
				if ok != tc.ok || (ok && name != "ci bot") {
					t.Fatalf("CheckServiceToken = %q, %v; want ok %v", name, ok, tc.ok)
				}
			})
		}

		if err := db.DisableServiceToken(ctx, id, now); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); ok {
			t.Fatal("disabled token accepted")
		}
		if _, ok := db.ServiceTokenActive(id, now); ok {
			t.Fatal("disabled token active")
		}
		if err := db.EnableServiceToken(ctx, id, now); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); !ok {
			t.Fatal("re-enabled token refused")
		}
		list, err := db.ServiceTokens(ctx)
		if err != nil || len(list) != 1 || list[0].ClientID != id || !list[0].Active(now) || list[0].ExpiresAt.IsZero() {
			t.Fatalf("ServiceTokens = %+v, %v", list, err)
		}
		if err := db.DeleteServiceToken(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); ok {
			t.Fatal("deleted token accepted")
		}
		if err := db.DeleteServiceToken(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v, want ErrNotFound", err)
		}
		if err := db.DisableServiceToken(ctx, id, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("disable missing: %v, want ErrNotFound", err)
		}
	})
}

func TestServiceTokenNeverExpires(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		id, secret, err := db.CreateServiceToken(ctx, "forever", 0, now)
		if err != nil {
			t.Fatal(err)
		}
		// Reopening loads the index from the table.
		db = be.reopen(t, db, path)
		if name, ok := db.CheckServiceToken(id, secret, now.Add(100*365*24*time.Hour)); !ok || name != "forever" {
			t.Fatalf("CheckServiceToken after reopen = %q, %v", name, ok)
		}
		if _, _, err := db.CreateServiceToken(ctx, " ", 0, now); err == nil {
			t.Fatal("empty name accepted")
		}
	})
}

// Another process disabling or deleting a token is seen at the next poll.
func TestServiceTokenCrossProcess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		other := be.other(t, path)
		id, secret, err := other.CreateServiceToken(ctx, "from cli", 0, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); ok {
			t.Fatal("seen before polling")
		}
		if err := db.PollServiceTokens(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); !ok {
			t.Fatal("created token not seen after poll")
		}
		if err := other.DisableServiceToken(ctx, id, now.Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := db.PollServiceTokens(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); ok {
			t.Fatal("disabled token accepted after poll")
		}
		if err := other.EnableServiceToken(ctx, id, now.Add(2*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := other.DeleteServiceToken(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := db.PollServiceTokens(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.CheckServiceToken(id, secret, now); ok {
			t.Fatal("deleted token accepted after poll")
		}
	})
}
