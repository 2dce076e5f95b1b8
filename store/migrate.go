package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationDir is the folder of migrationFS with the migrations in the
// dialect of the backend (pg: PostgreSQL, else SQLite).
func migrationDir(pg bool) string {
	if pg {
		return "migrations/postgres"
	}
	return "migrations/sqlite"
}

// migration is one numbered schema change, from
// migrations/<dialect>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations of the backend's dialect (pg:
// PostgreSQL, else SQLite) in ascending version order.
func migrations(pg bool) ([]migration, error) {
	dir := migrationDir(pg)
	names, err := fs.Glob(migrationFS, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	var ms []migration
	seen := make(map[int]string)
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", base)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: bad version %q", base, num)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", prev, base, v)
		}
		seen[v] = base
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// SchemaVersion returns the highest migration version recorded in the
// database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// appliedVersions returns the versions schema_migrations records.
func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer rows.Close()
	done := make(map[int]bool)
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	return done, nil
}

// migrateLock is the key of the PostgreSQL advisory lock a node holds
// while it migrates, so that nodes starting at once migrate one after the
// other ("gatemigr" in ASCII).
const migrateLock int64 = 0x676174656d696772

// migrate applies every pending migration, each in its own transaction, and
// refuses a database whose schema is newer than the newest embedded one. On
// PostgreSQL it holds migrateLock meanwhile: each migration is applied once
// even when several nodes start together.
func (db *DB) migrate(ctx context.Context) error {
	if !db.pg {
		return db.migrateLocked(ctx)
	}
	c, err := db.raw.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer func() {
		// A failed unlock is also released when the connection closes.
		if _, err := c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock); err != nil {
			c.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // discards the connection
		}
	}()
	return db.migrateLocked(ctx)
}

// migrateLocked is migrate once the lock, if any, is held.
func (db *DB) migrateLocked(ctx context.Context) error {
	ms, err := migrations(db.pg)
	if err != nil {
		return err
	}
	if _, err := db.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	newest := 0
	if len(ms) > 0 {
		newest = ms[len(ms)-1].version
	}
	if current > newest {
		return fmt.Errorf("%w: schema version %d, binary knows up to %d", ErrTooNew, current, newest)
	}
	done, err := db.appliedVersions(ctx)
	if err != nil {
		return err
	}
	// Every migration not yet recorded is applied, even one numbered below
	// the newest applied: branches of development may land out of order.
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		applied := false
		err := db.withTx(ctx, func(tx conn) error {
			// Another process may have applied it since we looked.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, time.Now().UTC().Format(time.RFC3339)); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if applied {
			db.log.Info("store: applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}
