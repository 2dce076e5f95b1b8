package login

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
)

const (
	testTeam    = "auth.example.com"
	testTeamURL = "https://auth.example.com"
	demoHost    = "demo.example.com"
)

var (
	demoAUD    = strings.Repeat("a", 64)
	wikiAUD    = strings.Repeat("b", 64)
	appSession = strings.Repeat("c", 64)
	testNow    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type storedHandoff struct {
	host    string
	h       access.Handoff
	expires time.Time
}

// memStore is an in-memory Store.
type memStore struct {
	mu        sync.Mutex
	users     map[string]string
	sessions  map[string]access.Session
	revoked   map[string]bool
	revokedBy map[string]string // nonce -> who revoked it
	handoffs  map[string]storedHandoff
	events    []access.Event
	appHard   map[string]time.Time // aud -> latest hard revocation
}

func newMemStore() *memStore {
	return &memStore{
		users:    map[string]string{},
		sessions: map[string]access.Session{},
		revoked:  map[string]bool{},
		handoffs: map[string]storedHandoff{},
	}
}

func (m *memStore) SignInUser(_ context.Context, email, _ string, _ time.Time) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.users[email]; ok {
		return id, nil
	}
	id := "user-" + email
	m.users[email] = id
	return id, nil
}

func (m *memStore) CreateSession(_ context.Context, s access.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.Nonce] = s
	return nil
}

func (m *memStore) Session(_ context.Context, nonce string) (access.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[nonce]
	if !ok {
		return access.Session{}, errors.New("not found")
	}
	return s, nil
}

func (m *memStore) SessionRevoked(nonce string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.revoked[nonce]
}

func (m *memStore) RevokeSession(_ context.Context, nonce, by string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revoked[nonce] = true
	if m.revokedBy == nil {
		m.revokedBy = map[string]string{}
	}
	m.revokedBy[nonce] = by
	return nil
}

func (m *memStore) CreateHandoff(_ context.Context, nonce, host string, h access.Handoff, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handoffs[nonce] = storedHandoff{host: host, h: h, expires: expires}
	return nil
}

func (m *memStore) AppRevocation(aud string) access.AppRevocation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return access.AppRevocation{Hard: m.appHard[aud]}
}

// revokeApp records a hard revocation of the app with audience aud at t.
func (m *memStore) revokeApp(aud string, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.appHard == nil {
		m.appHard = map[string]time.Time{}
	}
	m.appHard[aud] = t
}

func (m *memStore) Audit(_ context.Context, e access.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil
}

// eventKinds lists the kinds of the recorded events.
func (m *memStore) eventKinds() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.events {
		out = append(out, e.Kind)
	}
	return out
}

// memPINs is an in-memory idp.PINStore.
type memPINs struct {
	mu   sync.Mutex
	pins map[string][2]string // id -> email, pin
}

func (p *memPINs) CreatePIN(_ context.Context, id, email, pin string, _ time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pins[id] = [2]string{email, pin}
	return nil
}

func (p *memPINs) CheckPIN(_ context.Context, id, pin string, _ time.Time) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	got, ok := p.pins[id]
	switch {
	case !ok:
		return "", idp.ErrPINUnknown
	case got[1] != pin:
		return "", &access.WrongPINError{Left: 2}
	}
	delete(p.pins, id)
	return got[0], nil
}

// lastMail records the last PIN sent.
type lastMail struct {
	mu      sync.Mutex
	to, pin string
}

func (l *lastMail) SendPIN(_ context.Context, to, pin string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.to, l.pin = to, pin
	return nil
}

func (l *lastMail) get() (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.to, l.pin
}

// testKey is one signing key shared by the tests (RSA generation is slow).
var testKey = sync.OnceValues(func() (token.Key, error) { return token.NewKey(testNow.Add(-time.Hour)) })

// harness is a team-domain handler over in-memory fakes.
type harness struct {
	t     *testing.T
	h     *Handler
	store *memStore
	mail  *lastMail
	keys  *token.Keyring
	apps  *access.Table
}

func allowEmails(emails ...string) []access.Policy {
	return []access.Policy{{Name: "people", Decision: access.Allow, Include: []access.Rule{{Emails: emails}}}}
}

func newHarness(t *testing.T, providers ...Provider) *harness {
	t.Helper()
	return newHarnessWith(t, nil, providers...)
}

// newHarnessWith is newHarness with the options changed by mod.
func newHarnessWith(t *testing.T, mod func(*Options), providers ...Provider) *harness {
	t.Helper()
	if len(providers) == 0 {
		providers = []Provider{{ID: "pin", Name: "Email PIN", Kind: KindOTP}}
	}
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewKeyring(testTeamURL, []token.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	apps := access.NewTable([]*access.App{
		{Name: "Demo", AUD: demoAUD, Domains: []string{demoHost}, SessionDuration: 2 * time.Hour,
			Policies: allowEmails("ann@example.com")},
		{Name: "Wiki", AUD: wikiAUD, Domains: []string{"*.wiki.example.com", "wiki.example.com"}, Path: "/docs",
			Policies: []access.Policy{{Name: "all", Decision: access.Allow, Include: []access.Rule{{Everyone: true}},
				SessionDuration: 30 * time.Minute}}},
		{Name: "Ops", AUD: strings.Repeat("d", 64), Domains: []string{"ops.example.com"}, IdPs: []string{"sso"},
			Policies: allowEmails("ann@example.com")},
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := pages.New(testTeam, log)
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	mail := &lastMail{}
	otp := &idp.OTP{ID: "pin", Store: &memPINs{pins: map[string][2]string{}}, Mail: mail, Log: log,
		Now: func() time.Time { return testNow }}
	o := Options{
		TeamDomain:    testTeam,
		TeamURL:       testTeamURL,
		Secure:        true,
		GlobalSession: 8 * time.Hour,
		Apps:          func() *access.Table { return apps },
		Keys:          func() *token.Keyring { return keys },
		Store:         store,
		States:        newMemStates(),
		OTP:           otp,
		Providers:     providers,
		Pages:         rd,
		Log:           log,
		Now:           func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, h: h, store: store, mail: mail, keys: keys, apps: apps}
}

// do serves one request with cookies.
func (hs *harness) do(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	hs.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://"+testTeam+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	return w
}

// cookie returns the cookie name set by w, or nil.
func cookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// loginURL is the login path for host with the standard flow parameters.
func loginURL(host, redirect string) string {
	v := url.Values{}
	v.Set("kid", demoAUD)
	v.Set("redirect_url", redirect)
	v.Set("app_session", appSession)
	return access.PathLogin + host + "?" + v.Encode()
}

// demoFlow is the flow form fields for the demo app.
func demoFlow(redirect string) url.Values {
	v := url.Values{}
	v.Set("host", demoHost)
	v.Set("redirect_url", redirect)
	v.Set("app_session", appSession)
	v.Set("kid", demoAUD)
	return v
}

var pinIDPattern = regexp.MustCompile(`name="pin_id" value="([0-9a-f]+)"`)

// signIn runs the one-time-PIN flow for email and returns the verify
// response. code "" submits the PIN sent, "wrong" a different one.
func (hs *harness) signIn(email, code string) *httptest.ResponseRecorder {
	hs.t.Helper()
	first := hs.do("GET", loginURL(demoHost, "/x?y=1"), nil)
	if first.Code != http.StatusOK {
		hs.t.Fatalf("login page: %d %s", first.Code, first.Body)
	}
	csrf := cookie(first, access.CookieCSRF)
	if csrf == nil {
		hs.t.Fatal("login page set no CSRF cookie")
	}
	form := demoFlow("/x?y=1")
	form.Set("csrf", csrf.Value)
	form.Set("email", email)
	sent := hs.do("POST", access.PathOTP, form, csrf)
	if sent.Code != http.StatusOK {
		hs.t.Fatalf("send code: %d %s", sent.Code, sent.Body)
	}
	m := pinIDPattern.FindStringSubmatch(sent.Body.String())
	if m == nil {
		hs.t.Fatalf("no pin_id in code page:\n%s", sent.Body)
	}
	_, pin := hs.mail.get()
	switch code {
	case "":
		code = pin
	case "wrong":
		code = string('0'+(pin[0]-'0'+1)%10) + pin[1:]
	}
	form.Set("pin_id", m[1])
	form.Set("code", code)
	return hs.do("POST", access.PathOTPVerify, form, csrf)
}

// orgCookie signs a global session token for email and stores its session.
func (hs *harness) orgCookie(email string) (*http.Cookie, string) {
	hs.t.Helper()
	s := access.Session{
		Nonce:     token.NewNonce(),
		Identity:  access.Identity{UserID: "user-" + email, Email: email, IdP: access.IdP{ID: "pin", Type: "onetimepin"}, IssuedAt: testNow.Unix()},
		CreatedAt: testNow,
		ExpiresAt: testNow.Add(time.Hour),
	}
	if err := hs.store.CreateSession(context.Background(), s); err != nil {
		hs.t.Fatal(err)
	}
	raw, err := hs.keys.Sign(token.OrgClaims(s, token.TeamAudience(testTeam), testNow))
	if err != nil {
		hs.t.Fatal(err)
	}
	return &http.Cookie{Name: access.CookieAuthorization, Value: raw}, s.Nonce
}
