// Package audit holds the vocabulary of audit events shared by the packages
// that record them and the store that keeps them.
package audit

import "time"

// Kinds of events.
const (
	SignIn       = "sign-in"
	SignInFailed = "sign-in-failed"
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
