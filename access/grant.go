package access

import (
	"errors"
	"slices"
	"time"
)

// DefaultSessionDuration is the lifetime of an app token when neither the
// matching policy nor the app sets one, and of a global session when the
// config sets none (reference §4.1).
const DefaultSessionDuration = 24 * time.Hour

// Reasons a grant is refused. Callers show or log them; none is a secret.
var (
	ErrSessionEnded       = errors.New("access: the global session has ended or was revoked")
	ErrIdPNotAllowed      = errors.New("access: the app does not accept this sign-in method")
	ErrSessionPredatesApp = errors.New("access: the session is older than a revocation of the app")
	ErrNoPolicy           = errors.New("access: no policy allows this identity")
	ErrNotServiceToken    = errors.New("access: no service_auth policy admits this service token")
)

// AppRevocation is the latest hard and soft revocation of one app's tokens
// (zero when never revoked).
type AppRevocation struct {
	Hard time.Time // tokens refused; sessions older than this sign in again
	Soft time.Time // tokens refused, and re-issued silently
}

// Grant is what a session (or a service token) may get for an app now: the
// policy that admitted it and the times of the app token to mint.
type Grant struct {
	Policy    *Policy
	IssuedAt  int64 // Unix seconds; see IssuedAt
	ExpiresAt int64 // Unix seconds
}

// TTL returns the lifetime of app tokens granted under p: the policy's
// session duration, else the app's, else DefaultSessionDuration.
func (a *App) TTL(p *Policy) time.Duration {
	switch {
	case p != nil && p.SessionDuration > 0:
		return p.SessionDuration
	case a.SessionDuration > 0:
		return a.SessionDuration
	}
	return DefaultSessionDuration
}

// AllowsIdP reports whether the app accepts sign-ins from provider id.
func (a *App) AllowsIdP(id string) bool {
	return a == nil || len(a.IdPs) == 0 || slices.Contains(a.IdPs, id)
}

// GrantSession is THE rule for minting an app token from a global session,
// at sign-in and at silent refresh alike: the session must be active at now,
// signed in through a provider the app accepts, created after the latest
// hard revocation of the app, and the subject (the session's stored
// identity, asking from its current address) must pass an allow policy.
// The token it grants never outlives the session.
func (a *App) GrantSession(s *Session, sub Subject, rev AppRevocation, now time.Time) (Grant, error) {
	if s == nil || !s.Active(now) {
		return Grant{}, ErrSessionEnded
	}
	if !a.AllowsIdP(s.Identity.IdP.ID) {
		return Grant{}, ErrIdPNotAllowed
	}
	if SessionPredates(s, rev) {
		return Grant{}, ErrSessionPredatesApp
	}
	res := Evaluate(a.Policies, sub)
	// A service_auth policy admits service tokens, never a browser sign-in.
	if res.Decision != Allow {
		return Grant{}, ErrNoPolicy
	}
	exp := now.Add(a.TTL(res.Policy))
	if s.ExpiresAt.Before(exp) {
		exp = s.ExpiresAt
	}
	return Grant{Policy: res.Policy, IssuedAt: IssuedAt(now, rev), ExpiresAt: exp.Unix()}, nil
}

// SessionPredates reports whether the global session s was created before the
// latest hard revocation of the app: such a session may not mint tokens for
// it, so the user signs in with the IdP again.
func SessionPredates(s *Session, rev AppRevocation) bool {
	return !rev.Hard.IsZero() && s.CreatedAt.Before(rev.Hard)
}

// GrantService is THE rule for minting an app token for a service token,
// known by its client ID and name: a service_auth policy must admit it from
// client c.
func (a *App) GrantService(clientID, name string, c Client, rev AppRevocation, now time.Time) (Grant, error) {
	p := a.ServicePolicy(clientID, name, c)
	if p == nil {
		return Grant{}, ErrNotServiceToken
	}
	return Grant{Policy: p, IssuedAt: IssuedAt(now, rev), ExpiresAt: now.Add(a.TTL(p)).Unix()}, nil
}

// ServicePolicy returns the service_auth policy that admits the service
// token (by client ID, then by name, so that a service_tokens selector may
// list either) asking from client c, or nil.
func (a *App) ServicePolicy(clientID, name string, c Client) *Policy {
	for _, s := range ServiceSubjects(clientID, name, c) {
		if res := Evaluate(a.Policies, s); res.Decision == ServiceAuth {
			return res.Policy
		}
	}
	return nil
}

// ServiceSubjects are the subjects a service token asking from client c is
// evaluated as.
func ServiceSubjects(clientID, name string, c Client) []Subject {
	s := []Subject{{ServiceToken: clientID, IP: c.IP, Country: c.Country}}
	if name != "" && name != clientID {
		s = append(s, Subject{ServiceToken: name, IP: c.IP, Country: c.Country})
	}
	return s
}

// Permits is THE per-request check of a token already granted: the app's
// policies, evaluated now with every selector against sub (for a user, the
// identity stored with the session and the request's address and country), still admit
// it. Users need an allow policy, service tokens a service_auth one.
func (a *App) Permits(sub Subject) bool {
	want := Allow
	if sub.ServiceToken != "" {
		want = ServiceAuth
	}
	return Evaluate(a.Policies, sub).Decision == want
}

// SubjectOf is the policy subject of identity id asking from client c: the
// identity selectors judge what the IdP said at sign-in, the network
// selectors (ip_ranges, countries) where this request comes from.
func SubjectOf(id Identity, c Client) Subject {
	return Subject{Email: id.Email, Groups: id.Groups, IdP: id.IdP.ID, Claims: id.Custom, IP: c.IP, Country: c.Country}
}
