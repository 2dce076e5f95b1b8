package admin

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// ErrNotFound is what Store and ServiceTokens return (or wrap) for a
// session, user or service token that does not exist.
var ErrNotFound = access.ErrNotFound

// Sessions verifies the global session behind an admin's org token.
type Sessions interface {
	// Session returns the session with nonce; ErrNotFound when none.
	Session(ctx context.Context, nonce string) (access.Session, error)
	SessionRevoked(nonce string) bool
}

// Directory is what the overview, users, apps and keys pages read.
type Directory interface {
	// UserByEmail returns the user with email (any case); ErrNotFound when
	// none.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserSessions returns the user's sessions active at now.
	UserSessions(ctx context.Context, userID string, now time.Time) ([]access.Session, error)
	// ActiveSessions returns every global session active at now, newest
	// first.
	ActiveSessions(ctx context.Context, now time.Time) ([]access.Session, error)
	// UsersSince returns the users whose last sign-in is at or after since,
	// most recent first.
	UsersSince(ctx context.Context, since, now time.Time) ([]UserSummary, error)
	// Counts returns the overview figures of the period starting at since.
	AdminCounts(ctx context.Context, since, now time.Time) (Counts, error)
	// AppUsers lists who was given a token for which app, among users whose
	// global session is still active at now.
	AppUsers(ctx context.Context, now time.Time) ([]AppUser, error)
	// SigningKeys lists the token signing keys, newest first.
	SigningKeys(ctx context.Context) ([]token.Key, error)
}

// AuditLog records and searches audit events.
type AuditLog interface {
	Audit(ctx context.Context, e access.Event) error
	// AuditSearch returns a page of events matching f, newest first, and
	// whether older ones match too.
	AuditSearch(ctx context.Context, f AuditFilter) ([]access.Event, bool, error)
}

// Revoker ends sessions and app tokens; by is the admin's email. A revoke
// returns once every other live node on the store has applied it; one that
// some nodes did not acknowledge in time returns an
// *access.UnacknowledgedError naming them (the revoke is recorded and in
// force: the page, the API answer and the audit event name those nodes).
type Revoker interface {
	AppRevocation(aud string) access.AppRevocation
	// RevokeUser revokes every active session of email and returns how many.
	RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error)
	RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) error
	RevokeSession(ctx context.Context, nonce, by string, now time.Time) error
}

// Store is what the admin pages read and write.
type Store interface {
	Sessions
	Directory
	AuditLog
	Revoker
}

// ServiceTokens is what the service tokens page reads and writes. The
// changes return ErrNotFound for an unknown client ID.
type ServiceTokens interface {
	CreateServiceToken(ctx context.Context, name string, duration time.Duration, now time.Time) (clientID, secret string, err error)
	ServiceTokens(ctx context.Context) ([]ServiceToken, error)
	DisableServiceToken(ctx context.Context, clientID string, now time.Time) error
	EnableServiceToken(ctx context.Context, clientID string, now time.Time) error
	DeleteServiceToken(ctx context.Context, clientID string) error
}

// The rows the admin pages show, as the store returns them.
type (
	User         = access.User
	UserSummary  = access.UserSummary
	Counts       = access.Counts
	AppUser      = access.AppUser
	AuditFilter  = access.AuditFilter
	ServiceToken = access.ServiceToken
)
