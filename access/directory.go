package access

import (
	"errors"
	"time"
)

// ErrNotFound is what a store returns (or wraps) for a user, session or
// token that does not exist.
var ErrNotFound = errors.New("not found")

// User is a person who signed in at least once.
type User struct {
	ID         string // UUID, stable per email
	Email      string
	CreatedAt  time.Time
	LastSignIn time.Time
	LastIdP    string
}

// UserSummary is a user with their count of active sessions.
type UserSummary struct {
	User
	ActiveSessions int // unrevoked, unexpired global sessions
}

// Counts are the figures of the admin overview.
type Counts struct {
	Users          int // users who ever signed in
	UsersSince     int // users whose last sign-in is at or after since
	ActiveSessions int // global sessions active at now
	SignInsSince   int // sign-in audit events at or after since
	DeniedSince    int // denied audit events at or after since
	Revocations    int // revocations ever recorded
}

// AppUser says that a user with a live global session was given a token
// for App at At.
type AppUser struct {
	App   string
	Email string
	At    time.Time
}

// AuditFilter selects audit events. Empty fields match everything; Email
// and App match exactly (Email case-insensitively).
type AuditFilter struct {
	Kind   string
	Email  string
	App    string
	Before int64 // only events with an ID below this (paging); 0: from the newest
	Limit  int   // page size; <= 0 means 50
}

// ServiceToken is a stored service token; its secret is never kept.
type ServiceToken struct {
	ClientID   string
	Name       string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	DisabledAt time.Time // zero: enabled
	LastUsedAt time.Time // zero: never used
}

// Active reports whether the token is enabled and unexpired at now.
func (t ServiceToken) Active(now time.Time) bool {
	return t.DisabledAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// State is the token's state at now: "active", "disabled" or "expired".
func (t ServiceToken) State(now time.Time) string {
	switch {
	case !t.DisabledAt.IsZero():
		return "disabled"
	case !t.Active(now):
		return "expired"
	}
	return "active"
}
