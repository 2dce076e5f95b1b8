package idp

import (
	"errors"
	"fmt"
	"strings"
)

// Identity is what a redirecting provider (OIDC or SAML) established about
// the user: a normalised email, a display name, groups and the configured
// extra claims or attributes (the token's custom claim).
type Identity struct {
	Email  string
	Name   string
	Groups []string
	Custom map[string]any
}

// Errors of the redirecting providers; callers tell them apart with
// errors.Is to show the right page and audit the right reason.
var (
	// ErrUnreachable: the provider's discovery document or metadata could
	// not be fetched (yet).
	ErrUnreachable = errors.New("idp: provider not reachable")
	// ErrAccessDenied: the provider answered with an error, for example the
	// user cancelled (error=access_denied).
	ErrAccessDenied = errors.New("idp: provider refused the sign-in")
	// ErrUnverifiedEmail: the provider says the email is not verified.
	ErrUnverifiedEmail = errors.New("idp: email not verified")
	// ErrNoEmail: the answer holds no usable email address.
	ErrNoEmail = errors.New("idp: no email address")
	// ErrNonceMismatch: the ID token's nonce is not the one sent.
	ErrNonceMismatch = errors.New("idp: nonce mismatch")
	// ErrIssuerMismatch: the callback's iss parameter (RFC 9207) names
	// another issuer.
	ErrIssuerMismatch = errors.New("idp: issuer mismatch")
	// ErrInvalidToken: the code exchange or the ID token check failed.
	ErrInvalidToken = errors.New("idp: invalid token")
	// ErrInvalidResponse: a SAML response failed validation (signature,
	// audience, recipient, time conditions, request ID).
	ErrInvalidResponse = errors.New("idp: invalid SAML response")
	// ErrReplayed: a SAML assertion ID was already accepted.
	ErrReplayed = errors.New("idp: SAML assertion replayed")
)

// emailFrom normalises the first email-like value of vals.
func emailFrom(vals ...string) (string, error) {
	for _, v := range vals {
		if e, err := NormalizeEmail(v); err == nil {
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
