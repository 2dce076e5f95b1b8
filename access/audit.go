package access

import "time"

// Kinds of audit events.
const (
	EventSignIn       = "sign-in" // a global session was started
	EventSignInFailed = "sign-in-failed"
	EventAccess       = "access" // the team domain issued an app token to a signed-in user
	EventDenied       = "denied"
	EventSignOut      = "sign-out"
	EventRevoked      = "revoked"
	EventRateLimited  = "rate-limited"  // a limit on what strangers can trigger was reached
	EventServiceToken = "service-token" // an admin created or enabled a service token (disable and delete are EventRevoked)
	EventAPIToken     = "api-token"     // an admin API token was created, revoked or deleted
	EventAPI          = "api"           // a call to the admin API that changed nothing (reads) or was refused
	EventKeyRotated   = "key-rotated"   // a new signing key was made (schedule, command line)
	EventSCIM         = "scim"          // a SCIM client provisioned, changed or deleted a user or group
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

// Triggers of signing-key rotations: the start of an EventKeyRotated's
// Detail (KeyRotationDetail), by which the rotations metric counts them.
const (
	KeyRotationSchedule = "schedule" // keys.rotate_every elapsed
	KeyRotationManual   = "manual"   // gatehouse keys rotate, or App.RotateKey
)

// KeyRotationEvent is the audit event of a new signing key kid, made at
// now by trigger (KeyRotationManual, KeyRotationSchedule) on behalf of by
// ("": the serve itself).
func KeyRotationEvent(now time.Time, trigger, kid, by string) Event {
	return Event{Time: now, Kind: EventKeyRotated, Email: by, Detail: KeyRotationDetail(trigger, kid)}
}

// KeyRotationDetail is the Detail of the EventKeyRotated of a new signing
// key kid made by trigger.
func KeyRotationDetail(trigger, kid string) string { return trigger + ": new signing key " + kid }
