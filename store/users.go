package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/google/uuid"
)

// User is a person who signed in at least once.
type User = access.User

// normalizeEmail is the stored form of an email address.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// UpsertUser returns the user for email (lower-cased), creating it with a new
// UUID on first sign-in, and records a sign-in at now through idp.
func (db *DB) UpsertUser(ctx context.Context, email, idp string, now time.Time) (User, error) {
	email = normalizeEmail(email)
	if email == "" {
		return User{}, errors.New("store: upsert user: empty email")
	}
	var (
		u                 User
		created, lastSeen int64
	)
	err := db.sql.QueryRowContext(ctx, `
		INSERT INTO users (id, email, created_at, last_sign_in, last_idp)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET
			last_sign_in = excluded.last_sign_in,
			last_idp = excluded.last_idp
		RETURNING id, email, created_at, last_sign_in, last_idp`,
		uuid.NewString(), email, toMillis(now), toMillis(now), idp,
	).Scan(&u.ID, &u.Email, &created, &lastSeen, &u.LastIdP)
	if err != nil {
		return User{}, fmt.Errorf("store: upsert user: %w", err)
	}
	u.CreatedAt = fromMillis(created)
	u.LastSignIn = fromMillis(lastSeen)
	return u, nil
}

// UserByEmail returns the user with email (compared case-insensitively), or
// ErrNotFound.
func (db *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	var (
		u                 User
		created, lastSeen int64
	)
	err := db.sql.QueryRowContext(ctx, `
		SELECT id, email, created_at, last_sign_in, last_idp FROM users WHERE email = ?`,
		normalizeEmail(email),
	).Scan(&u.ID, &u.Email, &created, &lastSeen, &u.LastIdP)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user by email: %w", err)
	}
	u.CreatedAt = fromMillis(created)
	u.LastSignIn = fromMillis(lastSeen)
	return u, nil
}
