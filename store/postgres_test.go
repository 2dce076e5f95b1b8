package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

func TestMigrationFoldersMatch(t *testing.T) {
	names := func(pg bool) []string {
		entries, err := fs.ReadDir(migrationFS, migrationDir(pg))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	lite, pg := names(false), names(true)
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("migrations differ:\nsqlite   %v\npostgres %v", lite, pg)
	}
}

func TestRewritePlaceholders(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", `SELECT 1`, `SELECT 1`},
		{"in order", `UPDATE t SET a = ? WHERE b = ? AND c = ?`, `UPDATE t SET a = $1 WHERE b = $2 AND c = $3`},
		{"numbered", `SELECT ?1, ?2, ?1`, `SELECT $1, $2, $1`},
		{"in a string", `SELECT '?', ? FROM t WHERE x = 'it''s ?'`, `SELECT '?', $1 FROM t WHERE x = 'it''s ?'`},
		{"in an identifier", `SELECT "a?b", ?`, `SELECT "a?b", $1`},
		{"in a comment", "SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"unterminated string", `SELECT ?, 'x?`, `SELECT $1, 'x?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second answer comes from the cache
				if got := rewritePlaceholders(tt.in); got != tt.want {
					t.Fatalf("rewritePlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestOpenPostgresHidesPassword(t *testing.T) {
	const pw = "s3cret-Pa55word"
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tests := []struct{ name, dsn string }{
		{"url, unreachable", fmt.Sprintf("postgres://gh:%s@127.0.0.1:%d/gatehouse?connect_timeout=2", pw, port)},
		{"key/value, unreachable", fmt.Sprintf("host=127.0.0.1 port=%d user=gh password=%s dbname=x connect_timeout=2", port, pw)},
		{"key/value quoted, unreachable", fmt.Sprintf("host=127.0.0.1 port=%d password='%s' connect_timeout=2", port, pw)},
		{"url, unparsable", fmt.Sprintf("postgres://gh:%s@127.0.0.1:notaport/x", pw)},
		{"key/value, unparsable", fmt.Sprintf("host=127.0.0.1 password=%s sslmode=bogus", pw)},
		{"url, escaped password", fmt.Sprintf("postgres://gh:%s%%40x@127.0.0.1:%d/x?connect_timeout=2", pw, port)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := OpenPostgres(context.Background(), tt.dsn, nil)
			if err == nil {
				db.Close()
				t.Fatal("OpenPostgres succeeded")
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%+v", err), pw) {
				t.Fatalf("error shows the password: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "store: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestPostgresMigrateTogether: nodes starting at once on a new database
// apply each migration once.
func TestPostgresMigrateTogether(t *testing.T) {
	dsn := testkit.PostgresDSN(t)
	ctx := context.Background()
	const nodes = 4
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for range nodes {
		wg.Go(func() {
			db, err := OpenPostgres(ctx, dsn, nil)
			if err == nil {
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
	}
	db := backend{name: "postgres", pg: true}.other(t, dsn)
	ms, err := migrations(true)
	if err != nil {
		t.Fatal(err)
	}
	var rows, distinct int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || distinct != len(ms) {
		t.Fatalf("schema_migrations: %d rows, %d versions; want %d", rows, distinct, len(ms))
	}
}

// TestPostgresRevocationsInOrder: nodes (separate handles) revoking at
// once never let a reader see a log ID appear below one it already read:
// the revocation engine follows the log by its last ID
// (revocation.Source).
func TestPostgresRevocationsInOrder(t *testing.T) {
	be := backend{name: "postgres", pg: true}
	_, dsn := be.openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const (
		nodes   = 4
		perNode = 40
	)
	var writers sync.WaitGroup
	werrs := make(chan error, nodes)
	for n := range nodes {
		node := be.other(t, dsn)
		writers.Go(func() {
			for i := range perNode {
				aud := fmt.Sprintf("aud-%d-%d", n, i)
				if _, err := node.RevokeApp(ctx, "app", aud, i%2 == 0, "node", time.Now()); err != nil {
					werrs <- err
					return
				}
			}
		})
	}
	reader := be.other(t, dsn)
	seen := map[int64]bool{}
	var last int64
	done := make(chan struct{})
	go func() { writers.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more read sees the rest
		default:
		}
		revs, err := reader.RevocationsSince(ctx, last)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range revs {
			if r.ID <= last {
				t.Fatalf("RevocationsSince(%d) returned ID %d", last, r.ID)
			}
			last = r.ID
			seen[r.ID] = true
		}
		// An ID below last that appears later would be missed: check
		// that every ID the log now holds up to last was already seen.
		all, err := reader.Revocations(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.ID <= last && !seen[r.ID] {
				t.Fatalf("log ID %d appeared after ID %d was read", r.ID, last)
			}
		}
	}
	close(werrs)
	for err := range werrs {
		t.Fatalf("RevokeApp: %v", err)
	}
	if len(seen) != nodes*perNode {
		t.Fatalf("read %d log entries, want %d", len(seen), nodes*perNode)
	}
}

// TestPostgresFullAndConflictErrors: PostgreSQL's SQLSTATEs for a full
// disk and a unique violation are recognised.
func TestPostgresFullAndConflictErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		if _, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "Ann@example.com", Active: true}, now); err != nil {
			t.Fatal(err)
		}
		_, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "ann@EXAMPLE.com", Active: true}, now)
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("second user differing in case: %v, want ErrConflict", err)
		}
	})
	if err := full(pgError("53100")); !errors.Is(err, access.ErrStorageFull) {
		t.Errorf("full(disk_full) = %v, want ErrStorageFull", err)
	}
	if err := full(pgError("23505")); errors.Is(err, access.ErrStorageFull) {
		t.Errorf("full(unique_violation) = %v, want no ErrStorageFull", err)
	}
	if !uniqueViolation(fmt.Errorf("wrapped: %w", pgError("23505"))) {
		t.Error("uniqueViolation(23505) = false")
	}
}

// pgError is a PostgreSQL error with SQLSTATE code.
func pgError(code string) error { return &pgconn.PgError{Code: code, Message: "test"} }

// TestFullMarksUnreachable: the errors of a PostgreSQL server that is
// down, going down or gone mid-statement are marked
// access.ErrStoreUnreachable; other errors are not.
func TestFullMarksUnreachable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", pgError("57P01"), true},
		{"cannot connect now", pgError("57P03"), true},
		{"connection refused", fmt.Errorf("begin: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		{"bad connection", fmt.Errorf("commit: %w", driver.ErrBadConn), true},
		{"connection lost", fmt.Errorf("write lock: %w", io.ErrUnexpectedEOF), true},
		{"unique violation", pgError("23505"), false},
		{"disk full", pgError("53100"), false},
		{"no rows", sql.ErrNoRows, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(full(tt.err), access.ErrStoreUnreachable); got != tt.want {
				t.Errorf("full(%v) marked unreachable = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
