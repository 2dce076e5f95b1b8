package revocation_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
)

// TestWatchStore: the engine over the store (SQLite, PostgreSQL) picks up
// the revocations another process or node (another connection to the same
// database, as `gatehouse revoke`) writes, tells its subscribers once, and
// applies its own writes at once without telling them twice.
func TestWatchStore(t *testing.T) {
	backends := []struct {
		name  string
		where func(t *testing.T) string
		open  func(ctx context.Context, where string) (*store.DB, error)
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "gatehouse.db") },
			func(ctx context.Context, path string) (*store.DB, error) { return store.Open(ctx, path, nil) }},
		{"postgres", func(t *testing.T) string { return testkit.PostgresDSN(t) },
			func(ctx context.Context, dsn string) (*store.DB, error) { return store.OpenPostgres(ctx, dsn, nil) }},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			path := be.where(t)
			db, err := be.open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			watchStore(t, db, func() (*store.DB, error) { return be.open(ctx, path) })
		})
	}
}

// watchStore is TestWatchStore on db; open opens another handle on it.
func watchStore(t *testing.T, db *store.DB, open func() (*store.DB, error)) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for _, s := range []struct{ email, nonce string }{
		{"fay@example.com", "f1"}, {"fay@example.com", "f2"}, {"gus@example.com", "g1"}, {"hal@example.com", "h1"},
	} {
		u, err := db.UpsertUser(ctx, s.email, "pin", now)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateSession(ctx, access.Session{Nonce: s.nonce, Identity: access.Identity{UserID: u.ID, Email: u.Email},
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.RevokeSession(ctx, "h1", "", now); err != nil { // before the start: loaded
		t.Fatal(err)
	}
	e, err := revocation.New(ctx, db, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !e.SessionRevoked("h1") {
		t.Fatal("revocation written before the start not loaded")
	}
	told := make(chan access.Revocation, 10)
	e.Subscribe(func(r access.Revocation) { told <- r })
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go e.Watch(wctx, 20*time.Millisecond)

	other, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.RevokeUser(ctx, "fay@example.com", "cli", now); err != nil {
		t.Fatal(err)
	}
	if _, err := other.RevokeApp(ctx, "wiki", "aud-wiki", false, "cli", now); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind  string
		check func() bool
	}{
		{access.RevocationUser, func() bool { return e.SessionRevoked("f1") && e.SessionRevoked("f2") && !e.SessionRevoked("g1") }},
		{access.RevocationApp, func() bool { hard, _ := e.AppTokenRevoked("aud-wiki", now.Unix()); return hard }},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			select {
			case r := <-told:
				if r.Kind != tt.kind || r.By != "cli" {
					t.Errorf("told %+v, want a %s revocation", r, tt.kind)
				}
				if !tt.check() {
					t.Error("not enforced when the subscriber is told")
				}
			case <-time.After(2 * time.Second):
				t.Fatal("the watcher did not pick up the revocation")
			}
		})
	}

	// A revocation of this process is enforced at once and told once.
	r, err := db.RevokeSession(ctx, "g1", "admin@example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(r)
	if !e.SessionRevoked("g1") {
		t.Error("local revocation not enforced at once")
	}
	if got := <-told; got.ID != r.ID {
		t.Errorf("told %+v, want the local revocation", got)
	}
	select {
	case got := <-told:
		t.Errorf("told again: %+v", got)
	case <-time.After(150 * time.Millisecond):
	}
}
