package access

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
)

// Verdicts of the sign-in connectors (one-time PIN, OIDC, SAML). The
// connectors return (or wrap) them and the team domain tells them apart with
// errors.Is to show the right page and audit the right reason, without
// either side knowing the other.
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

	// ErrInvalidEmail: not a bare email address (see NormalizeEmail).
	ErrInvalidEmail = errors.New("idp: invalid email address")
	// ErrPINWrong: the one-time PIN does not match (the attempt is counted).
	ErrPINWrong = errors.New("idp: wrong PIN")
	// ErrPINExpired: the one-time PIN is past its lifetime.
	ErrPINExpired = errors.New("idp: PIN expired")
	// ErrPINExhausted: too many wrong attempts at the one-time PIN.
	ErrPINExhausted = errors.New("idp: too many PIN attempts")
	// ErrPINUnknown: no such one-time PIN, or it was already used.
	ErrPINUnknown = errors.New("idp: unknown PIN")
	// ErrLimited is wrapped by LimitError.
	ErrLimited = errors.New("idp: limit reached")
)

// ProviderError is a sign-in the identity provider itself refused, with
// its code (a SAML status code; OAuth errors arrive in the callback's query).
type ProviderError struct {
	Code string
}

func (e *ProviderError) Error() string { return "idp: provider refused the sign-in: " + e.Code }
func (e *ProviderError) Unwrap() error { return ErrAccessDenied }

// WrongPINError is ErrPINWrong with the number of tries the PIN has left,
// so that the sign-in page can say how many remain.
type WrongPINError struct {
	Left int // wrong codes the PIN still accepts before it is burnt
}

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("idp: wrong PIN, %d tries left", e.Left)
}
func (e *WrongPINError) Unwrap() error { return ErrPINWrong }

// PINTriesLeft returns the tries left that err (ErrPINWrong, possibly a
// wrapped WrongPINError) reports, and whether it reports any.
func PINTriesLeft(err error) (int, bool) {
	var we *WrongPINError
	if errors.As(err, &we) {
		return we.Left, true
	}
	return 0, false
}

// LimitError refuses a PIN email or a code check past a limit. It names no
// address: the sign-in page must not reveal which addresses exist.
type LimitError struct {
	What       string        // "pin-send" or "pin-lockout"
	RetryAfter time.Duration // how long until it would be allowed
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("idp: %s limit reached, retry after %s", e.What, e.RetryAfter)
}
func (e *LimitError) Unwrap() error { return ErrLimited }

// NormalizeEmail validates a bare email address (no display name) and
// returns it trimmed and lower-cased, or ErrInvalidEmail. Every identity's
// Email is in this form.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 254 {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "", ErrInvalidEmail
	}
	for _, c := range email {
		if c > unicode.MaxASCII && (lookalike(c) || !unicode.IsGraphic(c) || unicode.IsSpace(c)) {
			return "", ErrInvalidEmail
		}
	}
	return strings.ToLower(email), nil
}

// lookalike reports whether the non-ASCII rune c is one case of an ASCII
// letter (KELVIN SIGN is k, LATIN SMALL LETTER LONG S is s): lower-casing or
// a case-insensitive comparison would make an address written with it
// another one's ("\u212Aate@example.com" would sign in as kate@example.com).
func lookalike(c rune) bool {
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f <= unicode.MaxASCII {
			return true
		}
	}
	return unicode.ToLower(c) <= unicode.MaxASCII || unicode.ToUpper(c) <= unicode.MaxASCII
}
