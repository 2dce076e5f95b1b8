// Package store keeps Gatehouse's state in one SQLite file or one
// PostgreSQL database (shared by several Gatehouse nodes): users, global
// sessions, login nonces, one-time PINs, signing keys, app audiences,
// revocations, the node registry and the audit log. All SQL is here. The
// revocation index that enforces the revocations lives in package
// revocation, which loads and follows the store's revocation log.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gatehouse-dev/gatehouse/access"
)

// Errors.
var (
	ErrNotFound      = access.ErrNotFound
	ErrTooNew        = errors.New("store: database is newer than this binary")
	ErrPINWrong      = access.ErrPINWrong
	ErrPINExpired    = access.ErrPINExpired
	ErrPINExhausted  = access.ErrPINExhausted
	ErrPINUnknown    = access.ErrPINUnknown
	ErrNonceConsumed = errors.New("store: nonce already used")
	ErrOtherBrowser  = errors.New("store: hand-off belongs to another browser")
)

// DB is the SQLite or PostgreSQL database, plus the in-memory copy of the
// service tokens table (servicetokens.go).
type DB struct {
	raw *sql.DB
	sql conn // raw in the backend's dialect (sqlconn.go)
	pg  bool // PostgreSQL, not SQLite
	log *slog.Logger

	svcIdx *svcIndex    // service tokens, see servicetokens.go
	seen   seenThrottle // last-seen writes, see seen.go

	// pgcfg is, for PostgreSQL, the connection settings (password
	// included) the database was opened with: Listen opens its own
	// connection with them (notify.go). Nil for SQLite.
	pgcfg *pgx.ConnConfig
}

// DSN returns the modernc.org/sqlite data source name for the database file
// at path. The pragmas ride in the DSN so that every pooled connection gets
// them; write transactions take the write lock at BEGIN (_txlock=immediate)
// so that concurrent writers wait on busy_timeout instead of failing.
// Characters special in a file: URI ('%', '?', '#') are percent-encoded.
func DSN(path string) string {
	return "file:" + uriPathEscaper.Replace(path) +
		"?_pragma=foreign_keys(1)" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		// After a checkpoint the WAL shrinks back to 1 MiB instead of
		// keeping its high-water mark.
		"&_pragma=journal_size_limit(1048576)" +
		"&_txlock=immediate"
}

// uriPathEscaper encodes the characters that would end or alter the path
// part of an SQLite file: URI.
var uriPathEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Open opens (creating if needed) the database at path, applies pending
// migrations, refuses a database newer than the binary (ErrTooNew) and loads
// the service tokens. log receives what the store reports, such as applied
// migrations (nil: discard).
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dir := filepath.Dir(path); dir != "" && dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create directory: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data directory: %w", err)
		}
	}
	// The database holds the signing keys: 0600 whatever the umask. SQLite
	// gives its -wal and -shm files the database file's mode.
	if err := secretFile(path, false); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(side, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}
	sqldb, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return start(ctx, sqldb, false, log)
}

// start wraps an opened, reachable database: it applies pending migrations
// and loads the service tokens, closing sqldb on failure.
func start(ctx context.Context, sqldb *sql.DB, pg bool, log *slog.Logger) (*DB, error) {
	db := &DB{
		raw:    sqldb,
		sql:    conn{raw: sqldb, pg: pg},
		pg:     pg,
		log:    log,
		svcIdx: &svcIndex{byID: map[string]svcEntry{}, lastUsed: map[string]time.Time{}},
	}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	if err := db.reloadServiceTokens(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// Postgres tells whether the database is PostgreSQL (else SQLite).
func (db *DB) Postgres() bool { return db.pg }

// Close closes the database.
func (db *DB) Close() error {
	if err := db.raw.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// SQL returns the underlying database handle, for tests and operations.
// Its statements take the backend's own placeholders.
func (db *DB) SQL() *sql.DB { return db.raw }

// ErrBackupPostgres is Backup's answer on PostgreSQL.
var ErrBackupPostgres = errors.New("store: backup: the database is PostgreSQL: back it up with pg_dump")

// Backup writes a consistent copy of the live SQLite database to path with
// VACUUM INTO. path must not exist yet; its directory is created if missing.
// A PostgreSQL database gives ErrBackupPostgres: pg_dump backs it up.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.pg {
		return ErrBackupPostgres
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("store: backup: %w", err)
		}
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("store: backup: %s already exists", path)
	}
	// A backup holds the signing private keys: create it 0600 (VACUUM INTO
	// fills an empty file) whatever the umask.
	if err := secretFile(path, true); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := db.sql.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// secretFile creates path empty with mode 0600 (failing if it exists when
// exclusive), or sets an existing file's mode to 0600.
func secretFile(path string, exclusive bool) error {
	flags := os.O_CREATE | os.O_WRONLY
	if exclusive {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// writeLock is the key of the PostgreSQL advisory lock that every write
// transaction takes first (pg_advisory_xact_lock), so that writers are
// serialized across all Gatehouse nodes as SQLite serializes them: the
// revocation log's IDs become visible in increasing order, a use-once row
// is used once, one key rotation happens at a time. The constant is
// "gatehous" in ASCII.
const writeLock int64 = 0x67617465686f7573

// withTx runs fn in a write transaction, committing if fn returns nil and
// rolling back otherwise. On SQLite the transaction takes the write lock
// at BEGIN (BEGIN IMMEDIATE through the DSN); on PostgreSQL it takes the
// cluster-wide write lock (writeLock) first.
func (db *DB) withTx(ctx context.Context, fn func(tx conn) error) error {
	tx, err := db.raw.BeginTx(ctx, nil)
	if err != nil {
		return full(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	c := conn{raw: tx, pg: db.pg}
	if db.pg {
		if _, err := c.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, writeLock); err != nil {
			return full(fmt.Errorf("write lock: %w", err))
		}
	}
	if err := fn(c); err != nil {
		return full(err)
	}
	if err := tx.Commit(); err != nil {
		return full(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// writeOne runs fn, a single write statement that must be ordered with the
// other writes: in a write transaction on PostgreSQL (withTx takes the
// write lock), directly on SQLite, whose one writer already orders it.
func (db *DB) writeOne(ctx context.Context, fn func(c conn) error) error {
	if db.pg {
		return db.withTx(ctx, fn)
	}
	return full(fn(db.sql))
}

// sqliteFull is SQLite's SQLITE_FULL result code.
const sqliteFull = 13

// PostgreSQL's SQLSTATEs the store tells apart.
const (
	pgDiskFull        = "53100" // disk_full
	pgUniqueViolation = "23505" // unique_violation
)

// full marks err with access.ErrStorageFull when the database could not
// write for lack of room, and with access.ErrStoreUnreachable when it
// could not be reached (PostgreSQL down, shutting down or the connection
// lost), so that callers answer 503 with the reason instead of a bare 500.
func full(err error) error {
	var coded interface{ Code() int }
	if err == nil || errors.Is(err, access.ErrStorageFull) || errors.Is(err, access.ErrStoreUnreachable) {
		return err
	}
	if (errors.As(err, &coded) && coded.Code()&0xff == sqliteFull) ||
		sqlState(err) == pgDiskFull ||
		strings.Contains(err.Error(), "database or disk is full") {
		return fmt.Errorf("%w: %w", access.ErrStorageFull, err)
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", access.ErrStoreUnreachable, err)
	}
	return err
}

// unreachable tells whether err says the PostgreSQL server could not be
// reached or went away: a failed connection, a server shutting down or
// starting up (SQLSTATE class 57P), a connection lost mid-statement.
func unreachable(err error) bool {
	var connect *pgconn.ConnectError
	var op *net.OpError
	return errors.As(err, &connect) || errors.As(err, &op) ||
		strings.HasPrefix(sqlState(err), "57P") ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// uniqueViolation tells whether err is a broken UNIQUE constraint.
func uniqueViolation(err error) bool {
	return err != nil && (sqlState(err) == pgUniqueViolation || strings.Contains(err.Error(), "UNIQUE constraint failed"))
}

// sqlState is the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// toMillis converts t to the stored form: Unix milliseconds.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts a stored time back to a UTC time.Time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// toNullMillis stores the zero time as NULL.
func toNullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMillis(t), Valid: true}
}

// fromNullMillis reads NULL back as the zero time.
func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}
