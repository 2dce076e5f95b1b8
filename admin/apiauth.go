package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// APITokenAuth is what authenticating an admin API token reads and writes.
type APITokenAuth interface {
	// APITokenByHash returns the token whose secret hashes to hash
	// (access.HashAPIToken), revoked and expired ones included;
	// ErrNotFound when none.
	APITokenByHash(ctx context.Context, hash [32]byte) (access.APIToken, error)
	// TouchAPIToken records a use of the token at now (at most one write a
	// minute).
	TouchAPIToken(ctx context.Context, id string, now time.Time) error
}

// Limiter is a keyed limit on events (limit.Keyed, or a shared store's).
type Limiter interface {
	// Allowed reports, counting nothing, whether one more event for key is
	// within the limit, and the wait when not.
	Allowed(key string, now time.Time) (bool, time.Duration)
	// Take counts one event for key; false, with the wait, past the limit.
	Take(key string, now time.Time) (bool, time.Duration)
}

// Authenticator verifies "Authorization: Bearer <API token>" for the admin
// API and for other machine interfaces (SCIM): the token must exist, be
// unrevoked and unexpired, and carry the scope the endpoint names. Failed
// attempts are limited per client IP, so that a stranger cannot guess at
// speed (and cannot make Gatehouse query the store at speed either).
type Authenticator struct {
	Tokens APITokenAuth
	// Failures limits the failed authentications of one client IP; once
	// reached, every attempt from that IP is refused with 429 until it
	// refills. Nil: no limit.
	Failures Limiter
	// Limited, when set, is told of each call refused for the failure limit
	// (a metric); nothing is written to the store for those.
	Limited func()
	// TrustedProxies and ClientIPHeader find the client IP as web.ClientIP
	// does (the rule of sign-in and of the audit log).
	TrustedProxies []netip.Prefix
	ClientIPHeader string
	Now            func() time.Time
	Log            *slog.Logger
}

// lastUseGranularity is how stale a token's last use may be before
// Authenticate records a new one.
const lastUseGranularity = time.Minute

// Messages of authentication failures; the same whatever the cause, so
// that they reveal nothing about which tokens exist.
const (
	msgAPIUnauthorized = "A valid API token is required: send Authorization: Bearer <token>."
	msgAPIForbidden    = "This API token does not carry the scope %q."
	msgAPILimited      = "Too many failed API authentications from your network. Try again in %d seconds."
)

// ErrAPIAuth marks the errors of Authenticate that are the client's fault
// (401, 403, 429), as opposed to a store failure.
var ErrAPIAuth = errors.New("admin: api authentication failed")

// Authenticate returns the API token of r when it may use scope. It
// returns a *web.Error: 401 for a missing, malformed, unknown, revoked or
// expired token, 403 for a token without scope, 429 when the client IP has
// failed too often (with the wait in RetryAfter; Retry-After is set on w
// when w is not nil). A store failure is returned as it is (500).
func (v *Authenticator) Authenticate(w http.ResponseWriter, r *http.Request, scope string) (access.APIToken, error) {
	now := v.now()
	ip := v.limitKey(r)
	if v.Failures != nil {
		if ok, wait := v.Failures.Allowed(ip, now); !ok {
			if v.Limited != nil {
				v.Limited()
			}
			return access.APIToken{}, v.limited(w, wait)
		}
	}
	tok, err := v.verify(r, now)
	if errors.Is(err, ErrAPIAuth) {
		if v.Failures != nil {
			v.Failures.Take(ip, now)
		}
		if w != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		}
		return access.APIToken{}, web.Errorf(http.StatusUnauthorized, msgAPIUnauthorized, err)
	}
	if err != nil {
		return access.APIToken{}, err
	}
	if !tok.HasScope(scope) {
		return access.APIToken{}, web.Errorf(http.StatusForbidden, fmt.Sprintf(msgAPIForbidden, scope),
			fmt.Errorf("%w: token %s lacks scope %s", ErrAPIAuth, tok.ID, scope))
	}
	if now.Sub(tok.LastUsedAt) >= lastUseGranularity {
		if err := v.Tokens.TouchAPIToken(r.Context(), tok.ID, now); err != nil {
			v.log().WarnContext(r.Context(), "admin: record api token use", "token", tok.ID, "err", err)
		}
	}
	return tok, nil
}

// verify finds the usable token of r's bearer credential.
func (v *Authenticator) verify(r *http.Request, now time.Time) (access.APIToken, error) {
	// One Authorization header only: with several, a front proxy and
	// Gatehouse could each read a different one.
	if len(r.Header.Values("Authorization")) != 1 {
		return access.APIToken{}, fmt.Errorf("%w: not exactly one authorization header", ErrAPIAuth)
	}
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || !access.LooksLikeAPIToken(secret) {
		return access.APIToken{}, fmt.Errorf("%w: no bearer api token", ErrAPIAuth)
	}
	hash := access.HashAPIToken(secret)
	tok, err := v.Tokens.APITokenByHash(r.Context(), hash)
	if errors.Is(err, ErrNotFound) {
		return access.APIToken{}, fmt.Errorf("%w: unknown token", ErrAPIAuth)
	}
	if err != nil {
		return access.APIToken{}, fmt.Errorf("admin: api token: %w", err)
	}
	if subtle.ConstantTimeCompare(tok.Hash[:], hash[:]) != 1 {
		return access.APIToken{}, fmt.Errorf("%w: unknown token", ErrAPIAuth)
	}
	if !tok.Usable(now) {
		return access.APIToken{}, fmt.Errorf("%w: token %s is %s", ErrAPIAuth, tok.ID, tok.State(now))
	}
	return tok, nil
}

// limited is the 429 of a client IP past the failure limit.
func (v *Authenticator) limited(w http.ResponseWriter, wait time.Duration) error {
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	if w != nil {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	return web.Errorf(http.StatusTooManyRequests, fmt.Sprintf(msgAPILimited, secs), fmt.Errorf("%w: failure limit reached", ErrAPIAuth))
}

// ClientIP is r's client address as the audit log records it (read
// through the trusted proxies); "" when there is none.
func (v *Authenticator) ClientIP(r *http.Request) string {
	if ip := web.ClientIP(r, v.TrustedProxies, v.ClientIPHeader); ip.IsValid() {
		return ip.String()
	}
	return ""
}

// limitKey is the key of r's client in the failure limit: its IPv4
// address, or the /64 of its IPv6 address (one host commonly holds a whole
// /64, and would otherwise get a fresh allowance from each address);
// "unknown" when there is none.
func (v *Authenticator) limitKey(r *http.Request) string {
	ip := web.ClientIP(r, v.TrustedProxies, v.ClientIPHeader).Unmap()
	switch {
	case !ip.IsValid():
		return "unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (v *Authenticator) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Authenticator) log() *slog.Logger {
	if v.Log == nil {
		return slog.Default()
	}
	return v.Log
}
