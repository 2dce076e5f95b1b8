package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Connection pool of a PostgreSQL database: enough connections for the
// requests of one node, kept open between bursts.
const (
	pgMaxOpenConns    = 16
	pgMaxIdleConns    = 16
	pgConnMaxIdleTime = 5 * time.Minute
)

// OpenPostgres opens the PostgreSQL database of dsn (a libpq connection
// string, "postgres://user:password@host/db?sslmode=..." or
// "host=... dbname=..."), applies pending migrations (one node at a time),
// refuses a database newer than the binary (ErrTooNew) and loads the
// service tokens. The DSN's password never appears in an error or a log
// line. log receives what the store reports (nil: discard).
func OpenPostgres(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	return openPostgres(ctx, dsn, "", log)
}

// openPostgres is OpenPostgres with a password kept out of the DSN (it
// wins over one in the DSN when set).
func openPostgres(ctx context.Context, dsn, password string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secret := dsnPassword(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", redact(err, secret))
	}
	if password != "" {
		cfg.Password = password
	}
	if cfg.Password != "" {
		secret = cfg.Password
	}
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(pgMaxOpenConns)
	sqldb.SetMaxIdleConns(pgMaxIdleConns)
	sqldb.SetConnMaxIdleTime(pgConnMaxIdleTime)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("store: open postgres %s: %w", dsnTarget(cfg), redact(err, secret))
	}
	db, err := start(ctx, sqldb, true, log)
	if err != nil {
		return nil, redact(err, secret)
	}
	db.pgcfg = cfg.Copy()
	return db, nil
}

// dsnTarget names the database of cfg for messages: user, host, port and
// database name, never the password.
func dsnTarget(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// dsnPassword digs the password out of a DSN that pgx may fail to parse,
// so that it can be scrubbed from the parse error: the userinfo of a URL,
// or a password= key of a key/value string.
func dsnPassword(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		rest := dsn[strings.Index(dsn, "//")+2:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				if u, err := url.PathUnescape(pw); err == nil && u != pw {
					return u
				}
				return pw
			}
		}
		if u, err := url.Parse(dsn); err == nil {
			if pw := u.Query().Get("password"); pw != "" {
				return pw
			}
		}
		return ""
	}
	i := strings.Index(dsn, "password")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(dsn[i+len("password"):], " ")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " ")
	if strings.HasPrefix(rest, "'") {
		end := strings.Index(rest[1:], "'")
		if end < 0 {
			return rest[1:]
		}
		return rest[1 : end+1]
	}
	if end := strings.IndexAny(rest, " \t\n"); end >= 0 {
		return rest[:end]
	}
	return rest
}

// redactedError is an error whose message has a secret blanked out. It
// unwraps to the original error so that errors.Is still sees through it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of secret in its message
// replaced by "xxxxx".
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(msg, secret, "xxxxx"), err: err}
}
