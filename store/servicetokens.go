package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// ServiceTokenSuffix ends every service token client ID.
const ServiceTokenSuffix = ".access"

// lastUsedEvery is how often, at most, a token's last_used_at is written.
const lastUsedEvery = time.Minute

// ServiceToken is a stored service token. The secret is never kept.
type ServiceToken = access.ServiceToken

// svcEntry is one service token in the in-memory index.
type svcEntry struct {
	name       string
	secretHash [sha256.Size]byte
	expires    time.Time // zero: never
	disabled   bool
}

// svcIndex is the in-memory copy of the service_tokens table the proxy
// checks on every request.
type svcIndex struct {
	mu       sync.RWMutex
	byID     map[string]svcEntry
	version  string               // table fingerprint at the last load
	lastUsed map[string]time.Time // client ID -> last_used_at written
	pollMu   sync.Mutex
}

// svc returns the service token index.
func (db *DB) svc() *svcIndex { return db.svcIdx }

// hashSecret is the SHA-256 of a service token secret. Secrets are 32
// random bytes, so a fast hash suffices.
func hashSecret(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

// CreateServiceToken stores a new service token called name, valid for
// duration from now (0: it never expires), and returns its client ID and
// secret. The secret is not stored and cannot be shown again.
func (db *DB) CreateServiceToken(ctx context.Context, name string, duration time.Duration, now time.Time) (clientID, secret string, err error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", "", errors.New("store: create service token: name required")
	}
	if duration < 0 {
		return "", "", errors.New("store: create service token: negative duration")
	}
	clientID = randomHex(16) + ServiceTokenSuffix
	secret = randomHex(32)
	sum := hashSecret(secret)
	var expires sql.NullInt64
	if duration > 0 {
		expires = toNullMillis(now.Add(duration))
	}
	_, err = db.sql.ExecContext(ctx, `
		INSERT INTO service_tokens (client_id, name, secret_hash, created_at, expires_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		clientID, name, hex.EncodeToString(sum[:]), toMillis(now), expires, toMillis(now))
	if err != nil {
		return "", "", fmt.Errorf("store: create service token: %w", err)
	}
	if err := db.reloadServiceTokens(ctx); err != nil {
		return "", "", err
	}
	return clientID, secret, nil
}

// ServiceTokens lists every service token, newest first.
func (db *DB) ServiceTokens(ctx context.Context) ([]ServiceToken, error) {
	rows, err := db.sql.QueryContext(ctx, `
		SELECT client_id, name, created_at, expires_at, disabled_at, last_used_at
		FROM service_tokens ORDER BY created_at DESC, client_id`)
	if err != nil {
		return nil, fmt.Errorf("store: service tokens: %w", err)
	}
	defer rows.Close()
	var out []ServiceToken
	for rows.Next() {
		var t ServiceToken
		var created int64
		var expires, disabled, used sql.NullInt64
		if err := rows.Scan(&t.ClientID, &t.Name, &created, &expires, &disabled, &used); err != nil {
			return nil, fmt.Errorf("store: service tokens: %w", err)
		}
		t.CreatedAt = fromMillis(created)
		t.ExpiresAt = fromNullMillis(expires)
		t.DisabledAt = fromNullMillis(disabled)
		t.LastUsedAt = fromNullMillis(used)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: service tokens: %w", err)
	}
	return out, nil
}

// DisableServiceToken disables the token with clientID: it is refused from
// the next request on. ErrNotFound when there is no such token.
func (db *DB) DisableServiceToken(ctx context.Context, clientID string, now time.Time) error {
	return db.updateServiceToken(ctx, "disable",
		`UPDATE service_tokens SET disabled_at = COALESCE(disabled_at, ?), updated_at = ? WHERE client_id = ?`,
		toMillis(now), toMillis(now), clientID)
}

// EnableServiceToken re-enables a disabled token. ErrNotFound when there is
// no such token.
func (db *DB) EnableServiceToken(ctx context.Context, clientID string, now time.Time) error {
	return db.updateServiceToken(ctx, "enable",
		`UPDATE service_tokens SET disabled_at = NULL, updated_at = ? WHERE client_id = ?`,
		toMillis(now), clientID)
}

// DeleteServiceToken deletes the token with clientID. ErrNotFound when
// there is no such token.
func (db *DB) DeleteServiceToken(ctx context.Context, clientID string) error {
	return db.updateServiceToken(ctx, "delete", `DELETE FROM service_tokens WHERE client_id = ?`, clientID)
}

func (db *DB) updateServiceToken(ctx context.Context, what, query string, args ...any) error {
	res, err := db.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s service token: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: %s service token: %w", what, ErrNotFound)
	}
	return db.reloadServiceTokens(ctx)
}

// CheckServiceToken reports, from memory in O(1), whether clientID and
// secret name an enabled, unexpired service token at now, and returns its
// name. The secret is compared in constant time.
func (db *DB) CheckServiceToken(clientID, secret string, now time.Time) (name string, ok bool) {
	idx := db.svc()
	idx.mu.RLock()
	e, found := idx.byID[clientID]
	idx.mu.RUnlock()
	sum := hashSecret(secret)
	if !found || subtle.ConstantTimeCompare(sum[:], e.secretHash[:]) != 1 || !e.active(now) {
		return "", false
	}
	db.touchServiceToken(clientID, now)
	return e.name, true
}

// ServiceTokenActive reports, from memory in O(1), whether the token with
// clientID exists, is enabled and unexpired at now, and returns its name.
// The proxy uses it to re-check app tokens minted for a service token.
func (db *DB) ServiceTokenActive(clientID string, now time.Time) (name string, ok bool) {
	idx := db.svc()
	idx.mu.RLock()
	e, found := idx.byID[clientID]
	idx.mu.RUnlock()
	if !found || !e.active(now) {
		return "", false
	}
	return e.name, true
}

func (e svcEntry) active(now time.Time) bool {
	return !e.disabled && (e.expires.IsZero() || now.Before(e.expires))
}

// touchServiceToken records the use of clientID in last_used_at, at most
// once a minute per token, without holding up the request.
func (db *DB) touchServiceToken(clientID string, now time.Time) {
	idx := db.svc()
	idx.mu.Lock()
	prev := idx.lastUsed[clientID]
	if !prev.IsZero() && now.Sub(prev) < lastUsedEvery {
		idx.mu.Unlock()
		return
	}
	idx.lastUsed[clientID] = now
	idx.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := db.sql.ExecContext(ctx,
			`UPDATE service_tokens SET last_used_at = ? WHERE client_id = ?`, toMillis(now), clientID); err != nil {
			db.log.Debug("store: record service token use", "err", err)
		}
	}()
}

// serviceTokensVersion is a cheap fingerprint of the table that changes on
// every create, disable, enable and delete (not on last_used_at).
func (db *DB) serviceTokensVersion(ctx context.Context) (string, error) {
	var n, maxUpd, sumUpd int64
	err := db.sql.QueryRowContext(ctx,
		`SELECT COUNT(*), COALESCE(MAX(updated_at), 0), COALESCE(SUM(updated_at % 1000003), 0) FROM service_tokens`).
		Scan(&n, &maxUpd, &sumUpd)
	if err != nil {
		return "", fmt.Errorf("store: service tokens version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d", n, maxUpd, sumUpd), nil
}

// reloadServiceTokens reloads the in-memory service token index from the
// database. Writes through this DB call it; PollServiceTokens calls it when
// another process changed the table.
func (db *DB) reloadServiceTokens(ctx context.Context) error {
	idx := db.svc()
	idx.pollMu.Lock()
	defer idx.pollMu.Unlock()
	return db.reloadServiceTokensLocked(ctx)
}

func (db *DB) reloadServiceTokensLocked(ctx context.Context) error {
	idx := db.svc()
	version, err := db.serviceTokensVersion(ctx)
	if err != nil {
		return err
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT client_id, name, secret_hash, expires_at, disabled_at FROM service_tokens`)
	if err != nil {
		return fmt.Errorf("store: load service tokens: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]svcEntry)
	for rows.Next() {
		var id, name, hashHex string
		var expires, disabled sql.NullInt64
		if err := rows.Scan(&id, &name, &hashHex, &expires, &disabled); err != nil {
			return fmt.Errorf("store: load service tokens: %w", err)
		}
		e := svcEntry{name: name, expires: fromNullMillis(expires), disabled: disabled.Valid}
		if b, err := hex.DecodeString(hashHex); err == nil && len(b) == sha256.Size {
			copy(e.secretHash[:], b)
		} else {
			e.disabled = true // unreadable hash: never matches
		}
		byID[id] = e
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load service tokens: %w", err)
	}
	idx.mu.Lock()
	idx.byID = byID
	idx.version = version
	idx.mu.Unlock()
	return nil
}

// PollServiceTokens reloads the in-memory copy of the service tokens when
// the table changed since the last load, for example through `gatehouse
// service-token disable` in another process. A serving Gatehouse calls it
// with every revocation poll.
func (db *DB) PollServiceTokens(ctx context.Context) error {
	idx := db.svc()
	idx.pollMu.Lock()
	defer idx.pollMu.Unlock()
	version, err := db.serviceTokensVersion(ctx)
	if err != nil {
		return err
	}
	idx.mu.RLock()
	same := version == idx.version
	idx.mu.RUnlock()
	if same {
		return nil
	}
	return db.reloadServiceTokensLocked(ctx)
}
