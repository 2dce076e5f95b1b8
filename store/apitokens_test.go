package store

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestAPITokenLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		tok, secret, err := db.CreateAPIToken(ctx, " ops ", []string{"revoke", "read", "read"}, 90*24*time.Hour, "admin@example.com", now)
		if err != nil {
			t.Fatal(err)
		}
		if !access.LooksLikeAPIToken(secret) || tok.Name != "ops" || !slices.Equal(tok.Scopes, []string{"read", "revoke"}) {
			t.Fatalf("created %+v, secret %q", tok, secret)
		}
		var stored string
		if err := db.sql.QueryRowContext(ctx, `SELECT token_hash FROM api_tokens WHERE id = ?`, tok.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if want := access.HashAPIToken(secret); stored != hex.EncodeToString(want[:]) {
			t.Fatalf("stored %q, want the hex SHA-256 of the secret", stored)
		}

		tests := []struct {
			name   string
			secret string
			found  bool
		}{
			{"right secret", secret, true},
			{"one digit off", secret[:len(secret)-1] + "x", false},
			{"empty", "", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.APITokenByHash(ctx, access.HashAPIToken(tc.secret))
				if tc.found != (err == nil) || (!tc.found && !errors.Is(err, ErrNotFound)) {
					t.Fatalf("APITokenByHash: %v, want found %v", err, tc.found)
				}
				if tc.found && (got.ID != tok.ID || !got.ExpiresAt.Equal(now.Add(90*24*time.Hour)) || got.CreatedBy != "admin@example.com") {
					t.Fatalf("got %+v", got)
				}
			})
		}

		// Last use: written once, then not again within the minute.
		if err := db.TouchAPIToken(ctx, tok.ID, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchAPIToken(ctx, tok.ID, now.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		got, _ := db.APIToken(ctx, tok.ID)
		if !got.LastUsedAt.Equal(now.Add(time.Second)) {
			t.Fatalf("last used %v, want the first use (one write a minute)", got.LastUsedAt)
		}
		if err := db.TouchAPIToken(ctx, tok.ID, now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ = db.APIToken(ctx, tok.ID); !got.LastUsedAt.Equal(now.Add(2 * time.Minute)) {
			t.Fatalf("last used %v after a minute, want updated", got.LastUsedAt)
		}

		if err := db.RevokeAPIToken(ctx, tok.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err = db.APITokenByHash(ctx, access.HashAPIToken(secret))
		if err != nil || got.Usable(now.Add(time.Hour)) || got.State(now.Add(time.Hour)) != "revoked" {
			t.Fatalf("after revoke: %+v, %v", got, err)
		}
		list, err := db.APITokens(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list %v, %v", list, err)
		}
		if err := db.DeleteAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		for _, err := range []error{db.DeleteAPIToken(ctx, tok.ID), db.RevokeAPIToken(ctx, "nope", now)} {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("change of a missing token: %v, want ErrNotFound", err)
			}
		}
		if _, _, err := db.CreateAPIToken(ctx, "x", []string{"root"}, 0, "", now); err == nil {
			t.Fatal("unknown scope accepted")
		}
	})
}
