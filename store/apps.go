package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrBadAUD is returned by AppAUD for a pinned value that is not 64
// lowercase hex characters.
var ErrBadAUD = errors.New("store: AUD must be 64 lowercase hex characters")

// validAUD reports whether s is 64 lowercase hex characters.
func validAUD(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newAUD returns 32 random bytes as 64 lowercase hex characters.
func newAUD() string { return randomHex(32) }

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// AppAUD returns the app's AUD: pinned if pinned is non-empty (and then
// stored), else the stored one, else a new random 64-hex value that is
// stored and stays stable across restarts. A malformed pinned value gives
// ErrBadAUD.
func (db *DB) AppAUD(ctx context.Context, app, pinned string) (string, error) {
	if app == "" {
		return "", errors.New("store: app AUD: empty app name")
	}
	now := toMillis(time.Now())
	if pinned != "" {
		if !validAUD(pinned) {
			return "", fmt.Errorf("store: app %q: %w", app, ErrBadAUD)
		}
		_, err := db.sql.ExecContext(ctx, `
			INSERT INTO apps (name, aud, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET aud = excluded.aud`, app, pinned, now)
		if err != nil {
			return "", fmt.Errorf("store: app %q: pin AUD: %w", app, err)
		}
		return pinned, nil
	}
	var aud string
	err := db.withTx(ctx, func(tx conn) error {
		err := tx.QueryRowContext(ctx, `SELECT aud FROM apps WHERE name = ?`, app).Scan(&aud)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		aud = newAUD()
		_, err = tx.ExecContext(ctx, `INSERT INTO apps (name, aud, created_at) VALUES (?, ?, ?)`, app, aud, now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: app %q: AUD: %w", app, err)
	}
	return aud, nil
}
