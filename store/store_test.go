package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// loaded returns what LoadRevoked reads at now: the revoked session nonces,
// the app revocations and the newest log ID.
func loaded(t *testing.T, db *DB, now time.Time) (map[string]bool, map[string]access.AppRevocation, int64) {
	t.Helper()
	nonces := map[string]bool{}
	apps, last, err := db.LoadRevoked(context.Background(), now, func(n []byte) { nonces[string(n)] = true })
	if err != nil {
		t.Fatalf("LoadRevoked: %v", err)
	}
	return nonces, apps, last
}

func TestOpenLogsThroughItsLogger(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		openLogsThroughItsLogger(t, be)
	})
}

func openLogsThroughItsLogger(t *testing.T, be backend) {
	var buf bytes.Buffer
	where := be.where(t)
	log := slog.New(slog.NewTextHandler(&buf, nil))
	open := Open
	if be.pg {
		open = OpenPostgres
	}
	db, err := open(context.Background(), where, log)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !strings.Contains(buf.String(), "store: applied migration") {
		t.Errorf("log = %q, want the applied migrations", buf.String())
	}
}

func TestMigrationsApplied(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		ms, err := migrations(be.pg)
		if err != nil {
			t.Fatal(err)
		}
		want := ms[len(ms)-1].version
		got, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || got < 1 {
			t.Fatalf("schema version = %d, want %d", got, want)
		}
		tables := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
		if be.pg {
			tables = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
		}
		for _, table := range []string{"users", "sessions", "handoffs", "pins", "signing_keys", "apps", "audit", "revocations"} {
			var n int
			if err := db.sql.QueryRowContext(ctx, tables, table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("table %s missing", table)
			}
		}
		if !be.pg {
			sqlitePragmas(t, db)
		}

		// Reopening applies nothing twice.
		db = be.reopen(t, db, path)
		var rows int
		if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != len(ms) {
			t.Errorf("schema_migrations has %d rows, want %d", rows, len(ms))
		}
	})
}

// sqlitePragmas checks the pragmas every SQLite connection gets.
func sqlitePragmas(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	var mode string
	if err := db.sql.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var fk int
	if err := db.sql.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 1 {
		t.Errorf("foreign_keys = %d, want 1", fk)
	}
}

// TestMigrationBelowNewestApplied: a migration numbered below the newest
// applied one, but never applied (it landed after a later one), is applied
// at the next open.
func TestMigrationBelowNewestApplied(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		if _, err := db.sql.ExecContext(ctx, `DROP TABLE api_tokens`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.sql.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 7`); err != nil {
			t.Fatal(err)
		}
		db = be.reopen(t, db, path)
		var n int
		if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = 7`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("migration 7 recorded %d times, %v; want 1", n, err)
		}
		if _, err := db.sql.ExecContext(ctx, `SELECT COUNT(*) FROM api_tokens`); err != nil {
			t.Fatalf("migration 7 not applied: %v", err)
		}
	})
}

func TestOpenTooNew(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		if _, err := db.sql.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'future')`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db2, err := be.open(context.Background(), path)
		if err == nil {
			db2.Close()
		}
		if !errors.Is(err, ErrTooNew) {
			t.Fatalf("Open = %v, want ErrTooNew", err)
		}
	})
}

func TestBackup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		u, err := db.UpsertUser(ctx, "backup@example.com", "pin", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "backups", "copy.db")
		if be.pg { // pg_dump backs PostgreSQL up
			err := db.Backup(ctx, dst)
			if !errors.Is(err, ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
				t.Fatalf("Backup on PostgreSQL = %v, want ErrBackupPostgres naming pg_dump", err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Backup on PostgreSQL left %s: %v", dst, err)
			}
			return
		}
		if err := db.Backup(ctx, dst); err != nil {
			t.Fatalf("Backup: %v", err)
		}
		if err := db.Backup(ctx, dst); err == nil {
			t.Error("Backup over an existing file succeeded")
		}
		copyDB, err := Open(ctx, dst, nil)
		if err != nil {
			t.Fatalf("open backup: %v", err)
		}
		defer copyDB.Close()
		var res string
		if err := copyDB.sql.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
			t.Fatal(err)
		}
		if res != "ok" {
			t.Errorf("integrity_check = %q", res)
		}
		got, err := copyDB.UserByEmail(ctx, "backup@example.com")
		if err != nil || got.ID != u.ID {
			t.Errorf("backup user = %+v, %v; want id %s", got, err, u.ID)
		}
	})
}

func TestConcurrentSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		u, err := db.UpsertUser(ctx, "busy@example.com", "pin", now)
		if err != nil {
			t.Fatal(err)
		}
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each*2)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					nonce := fmt.Sprintf("w%02di%02d", w, i)
					s := access.Session{
						Nonce:     nonce,
						Identity:  access.Identity{UserID: u.ID, Email: u.Email},
						CreatedAt: now,
						ExpiresAt: now.Add(time.Hour),
					}
					if err := db.CreateSession(ctx, s); err != nil {
						errs <- err
					}
					// Mix in transactional writes and reads.
					if i%3 == 0 {
						if _, err := db.RevokeSession(ctx, nonce, "", now); err != nil {
							errs <- err
						}
					}
					if _, err := db.UpsertUser(ctx, "busy@example.com", "pin", now); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
				t.Errorf("lock error: %v", err)
			} else {
				t.Errorf("error: %v", err)
			}
		}
		all, err := db.ListSessions(ctx, false, now, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != workers*each {
			t.Errorf("sessions = %d, want %d", len(all), workers*each)
		}
	})
}

func TestMillisRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
	}{
		{"utc", time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)},
		{"other zone", time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.FixedZone("x", 3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromMillis(toMillis(tt.in))
			if !got.Equal(tt.in) || got.Location() != time.UTC {
				t.Errorf("round trip = %v, want %v in UTC", got, tt.in)
			}
		})
	}
	if !fromNullMillis(toNullMillis(time.Time{})).IsZero() {
		t.Error("zero time did not round-trip through NULL")
	}
}

func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%20d", "gate.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer db.Close()
	if _, err := db.UpsertUser(context.Background(), "x@example.com", "pin", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}
