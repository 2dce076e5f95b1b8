package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// backend is a database the store runs on, for tests that run on both.
type backend struct {
	name string
	pg   bool
}

// backends are SQLite and PostgreSQL.
var backends = []backend{{name: "sqlite"}, {name: "postgres", pg: true}}

// forEachBackend runs fn as a subtest per backend. On PostgreSQL it skips
// in the fast lane (go test -short) only.
func forEachBackend(t *testing.T, fn func(t *testing.T, be backend)) {
	t.Helper()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { fn(t, be) })
	}
}

// where returns a fresh place for a database: a file path on SQLite, the
// DSN of a new empty database on PostgreSQL.
func (be backend) where(t testing.TB) string {
	t.Helper()
	if be.pg {
		return testkit.PostgresDSN(t)
	}
	return filepath.Join(t.TempDir(), "sub", "gatehouse.db")
}

// open opens the database at where (from be.where).
func (be backend) open(ctx context.Context, where string) (*DB, error) {
	if be.pg {
		return OpenPostgres(ctx, where, nil)
	}
	return Open(ctx, where, nil)
}

// openTest opens a fresh database and returns it with its place (a path or
// a DSN) for reopen and for other handles ("other processes").
func (be backend) openTest(t testing.TB) (*DB, string) {
	t.Helper()
	where := be.where(t)
	db, err := be.open(context.Background(), where)
	if err != nil {
		t.Fatalf("open %s: %v", be.name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db, where
}

// reopen closes db and opens where again.
func (be backend) reopen(t testing.TB, db *DB, where string) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return be.other(t, where)
}

// other opens another handle on the database at where, closed when t ends:
// another process or node.
func (be backend) other(t testing.TB, where string) *DB {
	t.Helper()
	db, err := be.open(context.Background(), where)
	if err != nil {
		t.Fatalf("open %s again: %v", be.name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
