package idp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"
)

type storedPIN struct {
	email, pin string
	expires    time.Time
	attempts   int
}

// memPINs is an in-memory PINStore with the error contract of PINStore.
type memPINs struct {
	mu   sync.Mutex
	pins map[string]*storedPIN
}

func (m *memPINs) CreatePIN(_ context.Context, id, email, pin string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pins == nil {
		m.pins = map[string]*storedPIN{}
	}
	m.pins[id] = &storedPIN{email: email, pin: pin, expires: expires}
	return nil
}

func (m *memPINs) CheckPIN(_ context.Context, id, pin string, now time.Time) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pins[id]
	switch {
	case !ok:
		return "", ErrPINUnknown
	case !now.Before(p.expires):
		return "", ErrPINExpired
	case p.attempts >= 3:
		return "", ErrPINExhausted
	case p.pin != pin:
		p.attempts++
		return "", ErrPINWrong
	}
	delete(m.pins, id)
	return p.email, nil
}

type recMailer struct {
	to, pin string
	err     error
}

func (r *recMailer) SendPIN(_ context.Context, to, pin string) error {
	r.to, r.pin = to, pin
	return r.err
}

func newTestOTP(now *time.Time, mail Mailer) (*OTP, *memPINs) {
	store := &memPINs{}
	return &OTP{
		ID:    "pin",
		Store: store,
		Mail:  mail,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:   func() time.Time { return *now },
	}, store
}

func TestOTPStartAndVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	mail := &recMailer{}
	o, store := newTestOTP(&now, mail)
	id, err := o.Start(context.Background(), "  Ann@Example.COM ")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("pin id %q is not 32 hex", id)
	}
	if mail.to != "ann@example.com" {
		t.Errorf("mailed to %q", mail.to)
	}
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(mail.pin) {
		t.Errorf("pin %q is not 6 digits", mail.pin)
	}
	if got := store.pins[id].expires; !got.Equal(now.Add(10 * time.Minute)) {
		t.Errorf("expires %v, want now+10m", got)
	}
	spaced := mail.pin[:3] + " " + mail.pin[3:] + " "
	email, err := o.Verify(context.Background(), id, spaced)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if email != "ann@example.com" {
		t.Errorf("email %q", email)
	}
	if _, err := o.Verify(context.Background(), id, mail.pin); !errors.Is(err, ErrPINUnknown) {
		t.Errorf("second use: err = %v, want ErrPINUnknown", err)
	}
}

func TestOTPVerifyErrors(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name  string
		code  func(pin string) string
		later time.Duration
		tries int
		want  error
	}{
		{name: "wrong", code: func(p string) string { return wrongPIN(p) }, want: ErrPINWrong},
		{name: "malformed", code: func(string) string { return "12ab56" }, want: ErrPINWrong},
		{name: "expired", code: func(p string) string { return p }, later: 11 * time.Minute, want: ErrPINExpired},
		{name: "exhausted", code: func(p string) string { return p }, tries: 3, want: ErrPINExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			mail := &recMailer{}
			o, _ := newTestOTP(&now, mail)
			id, err := o.Start(context.Background(), "ann@example.com")
			if err != nil {
				t.Fatal(err)
			}
			for range tt.tries {
				if _, err := o.Verify(context.Background(), id, wrongPIN(mail.pin)); !errors.Is(err, ErrPINWrong) {
					t.Fatalf("wrong try: %v", err)
				}
			}
			now = now.Add(tt.later)
			_, err = o.Verify(context.Background(), id, tt.code(mail.pin))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func wrongPIN(p string) string {
	b := []byte(p)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestOTPStartRejectsBadEmail(t *testing.T) {
	for _, tt := range []struct{ name, email string }{
		{"empty", ""},
		{"no at", "ann.example.com"},
		{"display name", "Ann <ann@example.com>"},
		{"two addresses", "a@example.com, b@example.com"},
		{"no domain", "ann@"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			mail := &recMailer{}
			o, store := newTestOTP(&now, mail)
			if _, err := o.Start(context.Background(), tt.email); !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("err = %v, want ErrInvalidEmail", err)
			}
			if len(store.pins) != 0 || mail.to != "" {
				t.Error("a PIN was created or sent for an invalid address")
			}
		})
	}
}

func TestOTPStartHidesMailFailure(t *testing.T) {
	now := time.Now()
	o, store := newTestOTP(&now, &recMailer{err: errors.New("smtp down")})
	id, err := o.Start(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatalf("Start returned the mail error: %v", err)
	}
	if store.pins[id] == nil {
		t.Error("no PIN stored")
	}
}
