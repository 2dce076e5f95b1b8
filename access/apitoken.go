package access

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Admin API tokens authenticate automation to the admin API (and other
// machine interfaces such as SCIM) with "Authorization: Bearer <secret>".
// The secret is APITokenPrefix followed by 64 hex digits (32 random bytes);
// only its SHA-256 is stored. Each token carries scopes; an endpoint names
// the one scope it needs.

// APITokenPrefix starts every API token secret, so that a leaked one is
// recognisable (secret scanners, logs).
const APITokenPrefix = "gh_api_"

// Scopes of API tokens.
const (
	ScopeRead          = "read"           // list users, sessions and service tokens
	ScopeRevoke        = "revoke"         // revoke users, apps and sessions; disable and delete service tokens
	ScopeServiceTokens = "service-tokens" // create and enable service tokens (grants access)
	ScopeSCIM          = "scim"           // provision users and groups over SCIM
)

// APIScopes are the known scopes, in display order.
var APIScopes = []string{ScopeRead, ScopeRevoke, ScopeServiceTokens, ScopeSCIM}

// APIToken is a stored API token; its secret is never kept.
type APIToken struct {
	ID         string // public identifier (16 hex), shown in lists and audit
	Name       string
	Scopes     []string
	Hash       [sha256.Size]byte // SHA-256 of the secret
	CreatedAt  time.Time
	CreatedBy  string    // who created it: an admin's email or "cli:USER"
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero: never used; written at most once a minute
	RevokedAt  time.Time // zero: in force
}

// HashAPIToken is the stored form of an API token secret. Secrets carry 256
// random bits, so one fast hash suffices.
func HashAPIToken(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

// LooksLikeAPIToken reports whether s has the shape of an API token secret.
func LooksLikeAPIToken(s string) bool {
	hexPart, ok := strings.CutPrefix(s, APITokenPrefix)
	if !ok || len(hexPart) != 64 {
		return false
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Usable reports whether the token is unrevoked and unexpired at now.
func (t APIToken) Usable(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// State is the token's state at now: active, revoked or expired.
func (t APIToken) State(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// HasScope reports whether the token carries scope.
func (t APIToken) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

// ParseScopes parses a comma-separated list of scopes ("read,revoke"),
// refusing unknown and missing ones; the result is in APIScopes order,
// without duplicates.
func ParseScopes(s string) ([]string, error) {
	var got []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		if !slices.Contains(APIScopes, part) {
			return nil, fmt.Errorf("access: unknown scope %q (scopes: %s)", part, strings.Join(APIScopes, ", "))
		}
		got = append(got, part)
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("access: no scope given (scopes: %s)", strings.Join(APIScopes, ", "))
	}
	var out []string
	for _, sc := range APIScopes {
		if slices.Contains(got, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// ParseLifetime parses a token lifetime: "90d", "52w", a Go duration
// ("720h"), or "never" / "0" for a token that does not expire (0).
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch s {
	case "never", "0", "0s":
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			var v int
			if _, err := fmt.Sscanf(n, "%d", &v); err == nil && fmt.Sprint(v) == n && v > 0 {
				return time.Duration(v) * unit, nil
			}
			return 0, fmt.Errorf("access: bad lifetime %q (want 90d, 52w, 1y, 720h or never)", s)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("access: bad lifetime %q (want 90d, 52w, 1y, 720h or never)", s)
	}
	return d, nil
}
