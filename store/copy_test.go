package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestCopyTablesCoverSchema: every table of the schema is either copied or
// named as left behind, so that a new migration's table is not forgotten.
func TestCopyTablesCoverSchema(t *testing.T) {
	db, _ := backend{name: "sqlite"}.openTest(t)
	rows, err := db.SQL().Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(copyTables, name) && !slices.Contains(copyTransient, name) {
			t.Errorf("table %s is neither in copyTables nor in copyTransient", name)
		}
	}
}

// TestCopyToPostgres: an SQLite database copied into PostgreSQL keeps its
// sessions, revocations (and their log), keys and AUDs; the revocation log
// goes on above the copied IDs; a second copy is refused.
func TestCopyToPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	ctx := context.Background()
	from, _ := backend{name: "sqlite"}.openTest(t)
	to, _ := backend{name: "postgres", pg: true}.openTest(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	u, err := from.UpsertUser(ctx, "ann@example.com", "pin", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, nonce := range []string{"nonce-live", "nonce-revoked"} {
		if err := from.CreateSession(ctx, access.Session{Nonce: nonce, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
			Identity: access.Identity{UserID: u.ID, Email: u.Email, IdP: access.IdP{ID: "pin", Type: "onetimepin"}}}); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := from.RevokeSession(ctx, "nonce-revoked", "admin@example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t, now)
	if _, err := from.AddSigningKeyAfter(ctx, key, ""); err != nil {
		t.Fatal(err)
	}
	aud, err := from.AppAUD(ctx, "grafana", "")
	if err != nil {
		t.Fatal(err)
	}

	counts, err := Copy(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	moved := map[string]int{}
	for _, c := range counts {
		moved[c.Table] = c.Rows
	}
	if moved["sessions"] != 2 || moved["users"] != 1 || moved["signing_keys"] != 1 || moved["revocations"] != 1 {
		t.Fatalf("copied %v", counts)
	}
	if s, err := to.Session(ctx, "nonce-live"); err != nil || s.Identity.Email != "ann@example.com" {
		t.Fatalf("live session on the target = %+v, %v", s, err)
	}
	var revoked []string
	_, last, err := to.LoadRevoked(ctx, now, func(n []byte) { revoked = append(revoked, string(n)) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(revoked, []string{"nonce-revoked"}) || last != rev.ID {
		t.Fatalf("revoked on the target = %v up to log ID %d, want [nonce-revoked] up to %d", revoked, last, rev.ID)
	}
	keys, err := to.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].ID != key.ID || !keys[0].Private.Equal(key.Private) {
		t.Fatalf("signing keys on the target: %d, %v", len(keys), err)
	}
	if got, err := to.AppAUD(ctx, "grafana", ""); err != nil || got != aud {
		t.Fatalf("AUD on the target = %q, %v; want %q", got, err, aud)
	}
	next, err := to.RevokeSession(ctx, "nonce-live", "admin@example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID <= rev.ID {
		t.Fatalf("a revocation after the copy got log ID %d, not above the copied %d", next.ID, rev.ID)
	}
	if _, err := Copy(ctx, from, to); !errors.Is(err, ErrTargetNotEmpty) {
		t.Fatalf("a copy into a non-empty target = %v, want ErrTargetNotEmpty", err)
	}
}
