package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// KeyInfo names one stored signing key without its private part.
type KeyInfo = access.KeyInfo

// SigningKeyIDs returns the kid and creation time of every signing key,
// newest first. It reads no key material, so it is cheap enough to poll.
func (db *DB) SigningKeyIDs(ctx context.Context) ([]KeyInfo, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT kid, created_at FROM signing_keys ORDER BY created_at DESC, kid DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: signing key ids: %w", err)
	}
	defer rows.Close()
	var out []KeyInfo
	for rows.Next() {
		var (
			k       KeyInfo
			created int64
		)
		if err := rows.Scan(&k.ID, &created); err != nil {
			return nil, fmt.Errorf("store: signing key ids: %w", err)
		}
		k.CreatedAt = fromMillis(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: signing key ids: %w", err)
	}
	return out, nil
}

// AddSigningKeyAfter stores k only while the newest signing key is still
// newest (its kid, "" for no key at all), checked and written in one write
// transaction; it reports whether it stored k. Of the processes or nodes
// that decide at once to rotate (or to create the first key) from the same
// newest key, one adds its key and the others get false.
func (db *DB) AddSigningKeyAfter(ctx context.Context, k access.SigningKey, newest string) (bool, error) {
	pemText, err := encodeKey(k)
	if err != nil {
		return false, fmt.Errorf("store: add signing key: %w", err)
	}
	added := false
	err = db.withTx(ctx, func(tx conn) error {
		var kid string
		err := tx.QueryRowContext(ctx, `SELECT kid FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1`).Scan(&kid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if kid != newest {
			return nil // another process rotated first
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)`,
			k.ID, pemText, toMillis(k.CreatedAt)); err != nil {
			return err
		}
		added = true
		return db.notify(ctx, tx, ChannelKeys, k.ID)
	})
	if err != nil {
		return false, fmt.Errorf("store: add signing key: %w", err)
	}
	return added, nil
}

// DeleteSigningKey removes the signing key kid. Deleting a key that does
// not exist is not an error.
func (db *DB) DeleteSigningKey(ctx context.Context, kid string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM signing_keys WHERE kid = ?`, kid); err != nil {
		return fmt.Errorf("store: delete signing key: %w", err)
	}
	return nil
}

// CountActiveSessions returns the number of unrevoked global sessions that
// have not expired at now.
func (db *DB) CountActiveSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?`, toMillis(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}

// CheckWritable proves the database records writes, as sign-ins and
// revocations need: it rewrites the heartbeat row with a page of data and
// commits. It fails (marked access.ErrStorageFull when so) on a full disk.
func (db *DB) CheckWritable(ctx context.Context) error {
	// Random bytes: a page the database cannot compress away.
	pad := make([]byte, 4096)
	if _, err := rand.Read(pad); err != nil {
		return fmt.Errorf("store: check writable: %w", err)
	}
	err := db.withTx(ctx, func(tx conn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO heartbeat (id, at, pad) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad`,
			toMillis(time.Now()), pad)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: check writable: %w", err)
	}
	return nil
}
