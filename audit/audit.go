// Package audit holds the vocabulary of audit events shared by the packages
// that record them and the store that keeps them.
package audit

import "time"

// Kinds of events.
const (
	SignIn       = "sign-in" // a global session was started
	SignInFailed = "sign-in-failed"
	Access       = "access" // the team domain issued an app token to a signed-in user
	Denied       = "denied"
	SignOut      = "sign-out"
	Revoked      = "revoked"
)

// Event is one line of the audit log.
type Event struct {
	ID     int64
	Time   time.Time
	Kind   string // one of the constants above
	Email  string // the user, when known
	App    string // the app name, when one is involved
	IdP    string // the provider id, when one is involved
	IP     string
	Detail string // human-readable reason or extra context; never a secret
}
