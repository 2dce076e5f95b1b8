// Package idp holds the identity-provider connectors of the team domain. The
// one-time-PIN connector mails a short code to an address and signs in
// whoever types it back.
package idp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// DefaultPINTTL is how long a one-time PIN is valid when OTP.TTL is zero.
const DefaultPINTTL = 10 * time.Minute

// pinDigits is the length of a one-time PIN.
const pinDigits = 6

// Errors of the one-time-PIN flow. PINStore implementations must return
// (or wrap) ErrPINWrong, ErrPINExpired, ErrPINExhausted and ErrPINUnknown
// from CheckPIN so that callers can tell the cases apart with errors.Is.
var (
	errNoPINStore    = errors.New("idp: one-time PIN has no store")
	errMalformedCode = fmt.Errorf("idp: code is not %d digits: %w", pinDigits, ErrPINWrong)
)

// PINStore keeps one-time PINs. CheckPIN returns the email the PIN was sent
// to, or one of ErrPINWrong (the attempt is counted; an
// *access.WrongPINError also says how many tries are left), ErrPINExpired,
// ErrPINExhausted or ErrPINUnknown (possibly wrapped); with ErrPINWrong and
// ErrPINExhausted it also returns the email, so that wrong codes count
// against the address.
type PINStore interface {
	CreatePIN(ctx context.Context, id, email, pin string, expires time.Time) error
	CheckPIN(ctx context.Context, id, pin string, now time.Time) (string, error)
}

// OTP is the one-time-PIN identity provider.
type OTP struct {
	ID    string // provider id from the config
	Store PINStore
	Mail  Mailer
	Log   *slog.Logger
	Now   func() time.Time
	TTL   time.Duration // DefaultPINTTL when zero

	// Sends limits the PIN emails per address; nil: no limit.
	Sends Limiter
	// Failures limits the wrong codes per address, across codes: when it
	// is exhausted the address is locked until it refills; nil: no limit.
	Failures Limiter
}

// Limiter is a keyed limit on events (limit.Keyed, or a shared store's).
type Limiter interface {
	// Take counts one event for key; false, with the wait, past the limit.
	Take(key string, now time.Time) (bool, time.Duration)
	// Allowed reports whether one more event is within the limit, counting
	// nothing.
	Allowed(key string, now time.Time) (bool, time.Duration)
}

// LimitError refuses a PIN email or a code check past a limit (declared in
// access, so that the team domain can tell it without importing idp).
type LimitError = access.LimitError

// Start sends a fresh PIN to email and returns the PIN's id, which the
// sign-in page carries to Verify. It fails with ErrInvalidEmail for a
// malformed address. A failure to send the mail is logged, not returned: the
// page claims a code was sent whatever happens, so that it does not reveal
// which addresses may sign in.
func (o *OTP) Start(ctx context.Context, email string) (string, error) {
	if o.Store == nil {
		return "", errNoPINStore
	}
	addr, err := access.NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	if o.Failures != nil {
		if ok, wait := o.Failures.Allowed(addr, o.now()); !ok {
			return "", &LimitError{What: "pin-lockout", RetryAfter: wait}
		}
	}
	if o.Sends != nil {
		if ok, wait := o.Sends.Take(addr, o.now()); !ok {
			return "", &LimitError{What: "pin-send", RetryAfter: wait}
		}
	}
	pin, err := newPIN()
	if err != nil {
		return "", err
	}
	id := randomHex(16)
	ttl := o.TTL
	if ttl <= 0 {
		ttl = DefaultPINTTL
	}
	if err := o.Store.CreatePIN(ctx, id, addr, pin, o.now().Add(ttl)); err != nil {
		return "", fmt.Errorf("idp: store PIN: %w", err)
	}
	if o.Mail == nil {
		o.log().Error("idp: one-time PIN not sent: no mailer configured", "email", addr)
		return id, nil
	}
	if err := o.Mail.SendPIN(ctx, addr, pin); err != nil {
		o.log().Error("idp: one-time PIN not sent", "email", addr, "err", err)
	}
	return id, nil
}

// Verify checks code against the PIN pinID and returns the email it was sent
// to. Spaces in code are ignored. Errors wrap ErrPINWrong, ErrPINExpired,
// ErrPINExhausted or ErrPINUnknown as the store reported them.
func (o *OTP) Verify(ctx context.Context, pinID, code string) (string, error) {
	if o.Store == nil {
		return "", errNoPINStore
	}
	code = strings.Join(strings.Fields(code), "")
	if len(code) != pinDigits || strings.Trim(code, "0123456789") != "" {
		return "", errMalformedCode
	}
	if pinID == "" {
		return "", fmt.Errorf("idp: verify PIN: %w", ErrPINUnknown)
	}
	email, err := o.Store.CheckPIN(ctx, pinID, code, o.now())
	if email != "" && o.Failures != nil {
		// A locked address signs in with no code, not even a right one.
		if ok, wait := o.Failures.Allowed(email, o.now()); !ok {
			return "", &LimitError{What: "pin-lockout", RetryAfter: wait}
		}
		if errors.Is(err, ErrPINWrong) || errors.Is(err, ErrPINExhausted) {
			o.Failures.Take(email, o.now())
		}
	}
	if err != nil {
		return "", fmt.Errorf("idp: verify PIN: %w", err)
	}
	return email, nil
}

func (o *OTP) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *OTP) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.Default()
}

// newPIN returns pinDigits uniformly random decimal digits.
func newPIN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("idp: generate PIN: %w", err)
	}
	return fmt.Sprintf("%0*d", pinDigits, n.Int64()), nil
}

// randomHex returns nBytes random bytes, hex-encoded.
func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b)
}
