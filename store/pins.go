package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// MaxPINAttempts is how many wrong guesses a one-time PIN survives.
const MaxPINAttempts = 5

// hashPIN is the stored form of a PIN: hex SHA-256 of id ":" pin.
func hashPIN(id, pin string) string {
	sum := sha256.Sum256([]byte(id + ":" + pin))
	return hex.EncodeToString(sum[:])
}

// CreatePIN stores a one-time PIN for email under id (stored hashed), valid
// until expires, with 5 attempts. It also deletes PINs expired over an hour
// ago.
func (db *DB) CreatePIN(ctx context.Context, id, email, pin string, expires time.Time) error {
	if id == "" || pin == "" {
		return errors.New("store: create PIN: empty id or PIN")
	}
	err := db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pins WHERE expires_at < ?`,
			toMillis(time.Now().Add(-staleAfter))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO pins (id, email, pin_hash, expires_at, attempts) VALUES (?, ?, ?, ?, 0)`,
			id, normalizeEmail(email), hashPIN(id, pin), toMillis(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create PIN: %w", err)
	}
	return nil
}

// CheckPIN checks pin against the PIN stored under id. It returns the email
// and burns the PIN on success; otherwise an *access.WrongPINError, which
// wraps ErrPINWrong (counting an attempt and saying how many are left),
// ErrPINExpired, ErrPINExhausted (after 5 wrong attempts) or ErrPINUnknown
// (unknown or already used): the errors of access.
//
// The fifth wrong attempt itself returns ErrPINExhausted (not ErrPINWrong),
// so the user is told at once to request a new PIN; every later check,
// right or wrong, returns ErrPINExhausted too.
func (db *DB) CheckPIN(ctx context.Context, id, pin string, now time.Time) (string, error) {
	var (
		email  string
		result error // committed outcome: the attempt count must persist
	)
	err := db.withTx(ctx, func(tx conn) error {
		var (
			stored   string
			expires  int64
			attempts int
			used     sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `
			SELECT email, pin_hash, expires_at, attempts, used_at FROM pins WHERE id = ?`, id,
		).Scan(&email, &stored, &expires, &attempts, &used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			result = ErrPINUnknown
			return nil
		case err != nil:
			return err
		case used.Valid:
			result = ErrPINUnknown
			return nil
		case !now.Before(fromMillis(expires)):
			result = ErrPINExpired
			return nil
		case attempts >= MaxPINAttempts:
			result = ErrPINExhausted
			return nil
		}
		if subtle.ConstantTimeCompare([]byte(hashPIN(id, pin)), []byte(stored)) != 1 {
			if _, err := tx.ExecContext(ctx, `UPDATE pins SET attempts = attempts + 1 WHERE id = ?`, id); err != nil {
				return err
			}
			result = &access.WrongPINError{Left: MaxPINAttempts - attempts - 1}
			if attempts+1 >= MaxPINAttempts {
				result = ErrPINExhausted
			}
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE pins SET used_at = ? WHERE id = ?`, toMillis(now), id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: check PIN: %w", err)
	}
	if errors.Is(result, ErrPINWrong) || errors.Is(result, ErrPINExhausted) {
		return email, result // wrong codes count against the address
	}
	if result != nil {
		return "", result
	}
	return email, nil
}
