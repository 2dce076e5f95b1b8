package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The pending sign-ins and sign-outs of the team domain live here, so that
// a provider's callback may land on any node: each is a value under a
// random single-use state, of a kind ("signin", "signout"), until it
// expires. The state is kept as its SHA-256 (hashNonce), never in clear.

// PutState stores value under state of kind until expires. Expired states
// of kind are purged first; then, when max states of kind are kept
// already, nothing is stored and PutState reports false, so that a
// stranger starting sign-ins cannot fill the disk.
func (db *DB) PutState(ctx context.Context, kind, state string, value []byte, expires, now time.Time, max int) (bool, error) {
	if kind == "" || state == "" {
		return false, errors.New("store: put state: empty kind or state")
	}
	if value == nil {
		value = []byte{}
	}
	stored := false
	err := db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_states WHERE kind = ? AND expires_at <= ?`,
			kind, toMillis(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_states WHERE kind = ?`, kind).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO signin_states (kind, state_hash, value, expires_at) VALUES (?, ?, ?, ?)`,
			kind, hashNonce(state), value, toMillis(expires)); err != nil {
			return err
		}
		stored = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: put state: %w", err)
	}
	return stored, nil
}

// TakeState deletes the value under state of kind and returns it, and
// whether it was there and unexpired at now. The delete is one statement,
// so of two callbacks presenting the same state exactly one gets it; an
// expired value is deleted too, and refused.
func (db *DB) TakeState(ctx context.Context, kind, state string, now time.Time) ([]byte, bool, error) {
	if state == "" {
		return nil, false, nil
	}
	var (
		value   []byte
		expires int64
	)
	err := db.sql.QueryRowContext(ctx, `
		DELETE FROM signin_states WHERE kind = ? AND state_hash = ? RETURNING value, expires_at`,
		kind, hashNonce(state)).Scan(&value, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("store: take state: %w", err)
	case !now.Before(fromMillis(expires)):
		return nil, false, nil
	}
	return value, true, nil
}
