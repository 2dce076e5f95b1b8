package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Kinds of revocations, as stored in the revocations table.
const (
	RevocationSession = "session"  // one global session and its app tokens
	RevocationUser    = "user"     // every session of a user
	RevocationApp     = "app"      // an app's tokens; the user signs in again
	RevocationAppSoft = "app_soft" // an app's tokens; re-issued silently
)

// Revocation is one row of the revocation log.
type Revocation struct {
	ID      int64
	Kind    string // one of the Revocation* constants
	Subject string // session nonce, user email or app name
	At      time.Time
	By      string // who revoked, when known
}

// insertRevocation records a revocation inside tx.
func insertRevocation(ctx context.Context, tx *sql.Tx, kind, subject string, at time.Time, by string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO revocations (kind, subject, at, by) VALUES (?, ?, ?, ?)`,
		kind, subject, toMillis(at), by)
	if err != nil {
		return fmt.Errorf("record revocation: %w", err)
	}
	return nil
}

// Revocations returns the newest revocations first, at most limit (all if
// limit <= 0).
func (db *DB) Revocations(ctx context.Context, limit int) ([]Revocation, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, kind, subject, at, by FROM revocations ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: revocations: %w", err)
	}
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var (
			r  Revocation
			at int64
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Subject, &at, &r.By); err != nil {
			return nil, fmt.Errorf("store: revocations: %w", err)
		}
		r.At = fromMillis(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: revocations: %w", err)
	}
	return out, nil
}
