package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// apiTokenColumns are the columns scanAPIToken reads, in order.
const apiTokenColumns = `id, name, token_hash, scopes, created_at, created_by, expires_at, last_used_at, revoked_at`

// CreateAPIToken stores a new admin API token called name with scopes,
// valid for lifetime from now (0: it never expires), recording by as its
// creator, and returns it with its secret. The secret is not stored and
// cannot be shown again.
func (db *DB) CreateAPIToken(ctx context.Context, name string, scopes []string, lifetime time.Duration, by string, now time.Time) (access.APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return access.APIToken{}, "", errors.New("store: create api token: name required")
	}
	if lifetime < 0 {
		return access.APIToken{}, "", errors.New("store: create api token: negative lifetime")
	}
	scopes, err := access.ParseScopes(strings.Join(scopes, ","))
	if err != nil {
		return access.APIToken{}, "", fmt.Errorf("store: create api token: %w", err)
	}
	secret := access.APITokenPrefix + randomHex(32)
	t := access.APIToken{
		ID: randomHex(8), Name: name, Scopes: scopes, Hash: access.HashAPIToken(secret),
		CreatedAt: fromMillis(toMillis(now)), CreatedBy: by,
	}
	if lifetime > 0 {
		t.ExpiresAt = fromMillis(toMillis(now.Add(lifetime)))
	}
	_, err = db.sql.ExecContext(ctx, `
		INSERT INTO api_tokens (id, name, token_hash, scopes, created_at, created_by, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, hex.EncodeToString(t.Hash[:]), strings.Join(t.Scopes, ","), toMillis(t.CreatedAt), by, toNullMillis(t.ExpiresAt))
	if err != nil {
		return access.APIToken{}, "", full(fmt.Errorf("store: create api token: %w", err))
	}
	return t, secret, nil
}

// APITokens lists every API token, newest first.
func (db *DB) APITokens(ctx context.Context) ([]access.APIToken, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("store: api tokens: %w", err)
	}
	defer rows.Close()
	var out []access.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: api tokens: %w", err)
	}
	return out, nil
}

// APITokenByHash returns the API token whose secret hashes to hash
// (access.HashAPIToken), revoked and expired ones included: the caller
// checks Usable and the scope. ErrNotFound when none.
func (db *DB) APITokenByHash(ctx context.Context, hash [32]byte) (access.APIToken, error) {
	row := db.sql.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, hex.EncodeToString(hash[:]))
	t, err := scanAPIToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return access.APIToken{}, ErrNotFound
	}
	if err != nil {
		return access.APIToken{}, fmt.Errorf("store: api token: %w", err)
	}
	return t, nil
}

// APIToken returns the API token with id. ErrNotFound when none.
func (db *DB) APIToken(ctx context.Context, id string) (access.APIToken, error) {
	row := db.sql.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ?`, id)
	t, err := scanAPIToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return access.APIToken{}, ErrNotFound
	}
	if err != nil {
		return access.APIToken{}, fmt.Errorf("store: api token: %w", err)
	}
	return t, nil
}

// TouchAPIToken records that the token with id was used at now, unless
// its last use was recorded less than a minute before (so that a busy
// token costs one write a minute, whatever its rate).
func (db *DB) TouchAPIToken(ctx context.Context, id string, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, `
		UPDATE api_tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		toMillis(now), id, toMillis(now.Add(-lastUsedEvery)))
	if err != nil {
		return full(fmt.Errorf("store: touch api token: %w", err))
	}
	return nil
}

// RevokeAPIToken marks the token with id revoked at now: it is refused
// from its next use and stays listed. ErrNotFound when there is no such
// token; revoking a revoked token changes nothing.
func (db *DB) RevokeAPIToken(ctx context.Context, id string, now time.Time) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, toMillis(now), id)
	return apiTokenChanged(res, err, "revoke")
}

// DeleteAPIToken deletes the token with id. ErrNotFound when none.
func (db *DB) DeleteAPIToken(ctx context.Context, id string) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id)
	return apiTokenChanged(res, err, "delete")
}

// apiTokenChanged turns the result of a change of one token into an error.
func apiTokenChanged(res sql.Result, err error, what string) error {
	if err != nil {
		return full(fmt.Errorf("store: %s api token: %w", what, err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: %s api token: %w", what, ErrNotFound)
	}
	return nil
}

// scanAPIToken reads one row of apiTokenColumns.
func scanAPIToken(r rowScanner) (access.APIToken, error) {
	var (
		t                      access.APIToken
		hash, scopes           string
		created                int64
		expires, used, revoked sql.NullInt64
	)
	if err := r.Scan(&t.ID, &t.Name, &hash, &scopes, &created, &t.CreatedBy, &expires, &used, &revoked); err != nil {
		return access.APIToken{}, err
	}
	b, err := hex.DecodeString(hash)
	if err != nil || len(b) != len(t.Hash) {
		return access.APIToken{}, fmt.Errorf("bad hash of token %s", t.ID)
	}
	copy(t.Hash[:], b)
	if scopes != "" {
		t.Scopes = strings.Split(scopes, ",")
	}
	t.CreatedAt = fromMillis(created)
	t.ExpiresAt = fromNullMillis(expires)
	t.LastUsedAt = fromNullMillis(used)
	t.RevokedAt = fromNullMillis(revoked)
	return t, nil
}
