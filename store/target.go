package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Target names a database to open: the SQLite file at Path, or, when
// Postgres is set, the PostgreSQL database of DSN with Password (which is
// kept out of the DSN so that the DSN can be shown).
type Target struct {
	Postgres bool
	Path     string // SQLite file
	DSN      string // PostgreSQL connection string
	Password string // PostgreSQL password, when not in the DSN
}

// String names the target for messages, never with its password.
func (t Target) String() string {
	if t.Postgres {
		if pw := dsnPassword(t.DSN); pw != "" {
			return "postgres " + strings.ReplaceAll(t.DSN, pw, "xxxxx")
		}
		return "postgres " + t.DSN
	}
	return t.Path
}

// OpenTarget opens t with Open or OpenPostgres. With mustExist, an SQLite
// file that does not exist yet is an error rather than a new database (a
// PostgreSQL database always exists: it is created by its administrator).
func OpenTarget(ctx context.Context, t Target, mustExist bool, log *slog.Logger) (*DB, error) {
	if t.Postgres {
		return openPostgres(ctx, t.DSN, t.Password, log)
	}
	if mustExist {
		if _, err := os.Stat(t.Path); err != nil {
			return nil, fmt.Errorf("store: no database at %s (check data_dir): %w", t.Path, err)
		}
	}
	return Open(ctx, t.Path, log)
}
