package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// staleAfter is how long after expiry hand-offs and PINs are kept before
// they are deleted opportunistically.
const staleAfter = time.Hour

// hashNonce is the stored form of a hand-off nonce: hex SHA-256.
func hashNonce(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:])
}

// CreateHandoff stores a single-use login nonce (by its SHA-256) for host,
// valid until expires. It also deletes hand-offs expired over an hour ago.
func (db *DB) CreateHandoff(ctx context.Context, nonce, host string, h access.Handoff, expires time.Time) error {
	if nonce == "" {
		return errors.New("store: create handoff: empty nonce")
	}
	payload, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("store: create handoff: %w", err)
	}
	err = db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM handoffs WHERE expires_at < ?`,
			toMillis(time.Now().Add(-staleAfter))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO handoffs (nonce_hash, host, payload, expires_at) VALUES (?, ?, ?, ?)`,
			hashNonce(nonce), strings.ToLower(host), string(payload), toMillis(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create handoff: %w", err)
	}
	return nil
}

// ConsumeHandoff returns and burns the hand-off for nonce if it exists, was
// created for host, is bound to the browser whose CF_AppSession cookie
// hashes to appSessionHash, is unexpired at now and was not used before. A
// used nonce gives ErrNonceConsumed, an unknown, expired or foreign-host
// one ErrNotFound, another browser's ErrOtherBrowser. Neither a
// foreign-host nor another browser's attempt burns the nonce, so a link
// sent elsewhere cannot spoil the rightful sign-in.
func (db *DB) ConsumeHandoff(ctx context.Context, nonce, host, appSessionHash string, now time.Time) (access.Handoff, error) {
	var h access.Handoff
	err := db.withTx(ctx, func(tx conn) error {
		var (
			storedHost, payload string
			expires             int64
			used                sql.NullInt64
		)
		key := hashNonce(nonce)
		err := tx.QueryRowContext(ctx, `
			SELECT host, payload, expires_at, used_at FROM handoffs WHERE nonce_hash = ?`, key,
		).Scan(&storedHost, &payload, &expires, &used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case !strings.EqualFold(storedHost, host):
			return ErrNotFound
		case used.Valid:
			return ErrNonceConsumed
		case !now.Before(fromMillis(expires)):
			return ErrNotFound
		}
		if err := json.Unmarshal([]byte(payload), &h); err != nil {
			return fmt.Errorf("decode payload: %w", err)
		}
		if h.AppSessionHash == "" || subtle.ConstantTimeCompare([]byte(h.AppSessionHash), []byte(appSessionHash)) != 1 {
			h = access.Handoff{}
			return ErrOtherBrowser
		}
		// The payload holds a bearer app token: once delivered, keep only
		// the burnt nonce, not the token.
		_, err = tx.ExecContext(ctx, `UPDATE handoffs SET used_at = ?, payload = '' WHERE nonce_hash = ?`, toMillis(now), key)
		return err
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNonceConsumed) || errors.Is(err, ErrOtherBrowser) {
		return access.Handoff{}, err
	}
	if err != nil {
		return access.Handoff{}, fmt.Errorf("store: consume handoff: %w", err)
	}
	return h, nil
}
