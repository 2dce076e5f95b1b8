package idp

import (
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Identity is what a redirecting provider (OIDC or SAML) established about
// the user. A connector fills in Email (normalised), Name, Groups and Custom
// (the configured extra claims or attributes, the token's custom claim);
// the team domain adds the rest.
type Identity = access.Identity

// Errors of the connectors, declared in access so that the team domain can
// tell them apart without importing idp.
var (
	ErrUnreachable     = access.ErrUnreachable
	ErrAccessDenied    = access.ErrAccessDenied
	ErrUnverifiedEmail = access.ErrUnverifiedEmail
	ErrNoEmail         = access.ErrNoEmail
	ErrNonceMismatch   = access.ErrNonceMismatch
	ErrIssuerMismatch  = access.ErrIssuerMismatch
	ErrInvalidToken    = access.ErrInvalidToken
	ErrInvalidResponse = access.ErrInvalidResponse
	ErrReplayed        = access.ErrReplayed
	ErrInvalidEmail    = access.ErrInvalidEmail
	ErrPINWrong        = access.ErrPINWrong
	ErrPINExpired      = access.ErrPINExpired
	ErrPINExhausted    = access.ErrPINExhausted
	ErrPINUnknown      = access.ErrPINUnknown
	ErrLimited         = access.ErrLimited
)

// ProviderError is a sign-in the provider refused, with its status code.
type ProviderError = access.ProviderError

// emailFrom normalises the first email-like value of vals.
func emailFrom(vals ...string) (string, error) {
	for _, v := range vals {
		if e, err := access.NormalizeEmail(v); err == nil {
			return e, nil
		}
	}
	return "", ErrNoEmail
}

// stringList turns a claim value (a string or a list) into strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, fmt.Sprint(e))
			}
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// firstNonEmpty returns the first non-blank string.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
