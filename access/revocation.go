package access

import "time"

// The same-second rule for app revocations. Token iat has second
// granularity while revocation times have millisecond granularity. An app
// token of an app revoked at T is refused when its iat < ceil(T) (in whole
// seconds), and every app token minted after T gets iat >= ceil(T) (see
// IssuedAt): a token minted before T always has iat <= floor(T) < ceil(T)
// when T is not on a whole second (no bypass), and one minted after T is
// never refused (no lockout).

// CeilSeconds returns t in Unix seconds, rounded up to the millisecond's
// whole second.
func CeilSeconds(t time.Time) int64 {
	ms := t.UnixMilli()
	s := ms / 1000
	if ms%1000 > 0 {
		s++
	}
	return s
}

// RevokedBy reports whether an app token issued at iat (Unix seconds) is
// refused by a revocation at t (zero: none).
func RevokedBy(iat int64, t time.Time) bool {
	return !t.IsZero() && iat < CeilSeconds(t)
}

// Refuses reports whether rev refuses an app token issued at iat, by its
// hard and by its soft part.
func (rev AppRevocation) Refuses(iat int64) (hard, soft bool) {
	return RevokedBy(iat, rev.Hard), RevokedBy(iat, rev.Soft)
}

// IssuedAt returns the iat (Unix seconds) to give an app token minted at now:
// now, or the first whole second at or after the latest revocation of the
// app when that is later.
func IssuedAt(now time.Time, rev AppRevocation) int64 {
	iat := now.Unix()
	for _, t := range []time.Time{rev.Hard, rev.Soft} {
		if !t.IsZero() && CeilSeconds(t) > iat {
			iat = CeilSeconds(t)
		}
	}
	return iat
}

// Kinds of revocations, as recorded in the revocation log.
const (
	RevocationSession = "session"  // one global session and its app tokens
	RevocationUser    = "user"     // every session of a user
	RevocationApp     = "app"      // an app's tokens; the user signs in again
	RevocationAppSoft = "app_soft" // an app's tokens; re-issued silently
)

// Revocation is one entry of the revocation log.
type Revocation struct {
	ID      int64  // position in the log; 0 when nothing was recorded
	Kind    string // one of the Revocation* constants
	Subject string // session nonce, user email or app audience (AUD tag)
	At      time.Time
	By      string // who revoked, when known

	// Nonces are the global sessions the revocation ended (kinds session
	// and user), so that their app tokens are refused.
	Nonces []string
}

// BySignOut is the revoker of a session its own user signed out of: none.
// The revocation log counts as revocations only the entries with a
// revoker (an admin, the command line, the API, a user ending another of
// their sessions), so sign-outs are not among them.
const BySignOut = ""
