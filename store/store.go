// Package store keeps Gatehouse's state in one SQLite file: users, global
// sessions, login nonces, one-time PINs, signing keys, app audiences,
// revocations and the audit log. All SQL is here.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/token"
)

// Errors.
var (
	ErrNotFound      = errors.New("store: not found")
	ErrTooNew        = errors.New("store: database is newer than this binary")
	ErrPINWrong      = errors.New("store: wrong PIN")
	ErrPINExpired    = errors.New("store: PIN expired")
	ErrPINExhausted  = errors.New("store: too many PIN attempts")
	ErrNonceConsumed = errors.New("store: nonce already used")
)

// DB is the SQLite database plus the in-memory revocation index.
type DB struct{}

// Open opens (creating if needed) the database at path, applies pending
// migrations, refuses a database newer than the binary (ErrTooNew) and loads
// the revocation index.
func Open(ctx context.Context, path string) (*DB, error) { panic("unimplemented") }

// Close closes the database.
func (db *DB) Close() error { panic("unimplemented") }

// User is a person who signed in at least once.
type User struct {
	ID         string // UUID, stable per email
	Email      string
	CreatedAt  time.Time
	LastSignIn time.Time
	LastIdP    string
}

// UpsertUser returns the user for email (lower-cased), creating it with a new
// UUID on first sign-in, and records a sign-in at now through idp.
func (db *DB) UpsertUser(ctx context.Context, email, idp string, now time.Time) (User, error) {
	panic("unimplemented")
}

// CreateSession stores a new global session.
func (db *DB) CreateSession(ctx context.Context, s token.Session) error { panic("unimplemented") }

// Session returns the global session with nonce (revoked or not), or ErrNotFound.
func (db *DB) Session(ctx context.Context, nonce string) (token.Session, error) {
	panic("unimplemented")
}

// RevokeSession marks the session revoked at now, in SQLite first, then in
// the in-memory index.
func (db *DB) RevokeSession(ctx context.Context, nonce string, now time.Time) error {
	panic("unimplemented")
}

// SessionRevoked reports, from memory in O(1), whether the session with
// nonce has been revoked.
func (db *DB) SessionRevoked(nonce string) bool { panic("unimplemented") }

// CreateHandoff stores a single-use login nonce (by its SHA-256) for host,
// valid until expires.
func (db *DB) CreateHandoff(ctx context.Context, nonce, host string, h token.Handoff, expires time.Time) error {
	panic("unimplemented")
}

// ConsumeHandoff returns and burns the hand-off for nonce if it exists, was
// created for host, is unexpired at now and was not used before. A used
// nonce gives ErrNonceConsumed, an unknown, expired or foreign-host one
// ErrNotFound.
func (db *DB) ConsumeHandoff(ctx context.Context, nonce, host string, now time.Time) (token.Handoff, error) {
	panic("unimplemented")
}

// CreatePIN stores a one-time PIN for email under id (stored hashed), valid
// until expires, with 5 attempts.
func (db *DB) CreatePIN(ctx context.Context, id, email, pin string, expires time.Time) error {
	panic("unimplemented")
}

// CheckPIN checks pin against the PIN stored under id. It returns the email
// and burns the PIN on success; ErrPINWrong (counting an attempt),
// ErrPINExpired, ErrPINExhausted (after 5 wrong attempts) or ErrNotFound
// (unknown or already used) otherwise.
func (db *DB) CheckPIN(ctx context.Context, id, pin string, now time.Time) (string, error) {
	panic("unimplemented")
}

// SigningKeys returns the signing keys, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]token.Key, error) { panic("unimplemented") }

// AddSigningKey stores k.
func (db *DB) AddSigningKey(ctx context.Context, k token.Key) error { panic("unimplemented") }

// AppAUD returns the app's AUD: pinned if pinned is non-empty (and then
// stored), else the stored one, else a new random 64-hex value that is
// stored and stays stable across restarts.
func (db *DB) AppAUD(ctx context.Context, app, pinned string) (string, error) {
	panic("unimplemented")
}

// Audit appends an event to the audit log.
func (db *DB) Audit(ctx context.Context, e audit.Event) error { panic("unimplemented") }

// AuditEvents returns the newest events first, at most limit.
func (db *DB) AuditEvents(ctx context.Context, limit int) ([]audit.Event, error) {
	panic("unimplemented")
}
