package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

const (
	teamURL = "https://auth.example.com"
	audDemo = "1111111111111111111111111111111111111111111111111111111111111111"
	audOps  = "2222222222222222222222222222222222222222222222222222222222222222"
	audPub  = "3333333333333333333333333333333333333333333333333333333333333333"
	nonceA  = "AAAAAAAAAAAAAAAA"
)

var (
	testNow  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	keyOnce  sync.Once
	keyValue token.Key
	keyErr   error
)

// testKeyring returns a keyring with one key shared by all tests.
func testKeyring(t testing.TB) *token.Keyring {
	t.Helper()
	keyOnce.Do(func() { keyValue, keyErr = token.NewKey(testNow.Add(-time.Hour)) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	kr, err := token.NewKeyring(teamURL, []token.Key{keyValue})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// appToken signs an app token for email, aud and nonce, issued at iat.
func appToken(t testing.TB, kr *token.Keyring, email, aud, nonce string, iat time.Time, ttl time.Duration) string {
	t.Helper()
	id := access.Identity{UserID: "u-1", Email: email}
	raw, err := kr.Sign(token.AppClaims(id, nonce, aud, access.Grant{IssuedAt: iat.Unix(), ExpiresAt: iat.Add(ttl).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// fakeStore is an in-memory Store.
type fakeStore struct {
	mu       sync.Mutex
	revoked  map[string]bool
	sessions map[string]access.Session
	handoffs map[string]handoff
	events   []access.Event
	appHard  map[string]time.Time
	appSoft  map[string]time.Time
}

type handoff struct {
	host string
	h    access.Handoff
}

var errNotFound = errors.New("fake: not found")

func newFakeStore() *fakeStore {
	return &fakeStore{revoked: map[string]bool{}, sessions: map[string]access.Session{}, handoffs: map[string]handoff{},
		appHard: map[string]time.Time{}, appSoft: map[string]time.Time{}}
}

func (s *fakeStore) SessionRevoked(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[nonce]
}

func (s *fakeStore) Session(_ context.Context, nonce string) (access.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[nonce]
	if !ok {
		return access.Session{}, errNotFound
	}
	return sess, nil
}

func (s *fakeStore) RevokeSession(_ context.Context, nonce, _ string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[nonce] = true
	if sess, ok := s.sessions[nonce]; ok {
		sess.RevokedAt = now
		s.sessions[nonce] = sess
	}
	return nil
}

func (s *fakeStore) ConsumeHandoff(_ context.Context, nonce, host, appSessionHash string, _ time.Time) (access.Handoff, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.handoffs[nonce]
	if !ok || h.host != host {
		return access.Handoff{}, errNotFound
	}
	if h.h.AppSessionHash == "" || h.h.AppSessionHash != appSessionHash {
		return access.Handoff{}, errNotFound // not burnt
	}
	delete(s.handoffs, nonce)
	return h.h, nil
}

func (s *fakeStore) Audit(_ context.Context, e access.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return nil
}

// fakePages renders a tiny page naming the title and message.
type fakePages struct{}

func (fakePages) Render(w http.ResponseWriter, status int, name, title string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<h1>%s</h1><p>%v</p>", title, data)
}

func (fakePages) Error(w http.ResponseWriter, _ *http.Request, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<h1>%s</h1><p>%s</p>", title, msg)
}

// everyone is an allow policy for everybody.
var everyone = []access.Policy{{Name: "all", Decision: access.Allow, Include: []access.Rule{{Everyone: true}}}}

// fixture is a Handler with three apps: demo (app.example.com and
// api.example.com) and ops (ops.example.com) proxied to origin, and public
// (public.example.com) with a bypass policy.
type fixture struct {
	h     *Handler
	store *fakeStore
	keys  *token.Keyring
}

func newFixture(t testing.TB, origin string, mod func(*Options)) *fixture {
	t.Helper()
	kr := testKeyring(t)
	st := newFakeStore()
	// The session behind the tokens tests mint with nonceA.
	st.sessions[nonceA] = access.Session{Nonce: nonceA, CreatedAt: testNow.Add(-time.Hour), ExpiresAt: testNow.Add(23 * time.Hour),
		Identity: access.Identity{UserID: "u-1", Email: "ann@example.com", IdP: access.IdP{ID: "pin", Type: "onetimepin"}}}
	table := access.NewTable([]*access.App{
		{Name: "demo", AUD: audDemo, Domains: []string{"app.example.com", "api.example.com", "*.wild.example.com"}, Origin: origin, Policies: everyone},
		{Name: "ops", AUD: audOps, Domains: []string{"ops.example.com"}, Origin: origin, Policies: everyone},
		{Name: "public", AUD: audPub, Domains: []string{"public.example.com"}, Origin: origin, Policies: []access.Policy{
			{Name: "open", Decision: access.Bypass, Include: []access.Rule{{Everyone: true}}},
		}},
		{Name: "office", AUD: audOps, Domains: []string{"office.example.com"}, Origin: origin, Policies: []access.Policy{
			{Name: "office", Decision: access.Allow, Include: []access.Rule{{IPRanges: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}},
		}},
	})
	o := Options{
		TeamURL: teamURL,
		Apps:    func() *access.Table { return table },
		Keys:    func() *token.Keyring { return kr },
		Store:   st,
		Pages:   fakePages{},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:     func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&o)
	}
	return &fixture{h: New(o), store: st, keys: kr}
}

// cookieFrom returns the Set-Cookie of resp called name, or nil.
func cookieFrom(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// bodyString reads resp's body.
// recorded is what a fake origin saw.
type recorded struct {
	mu  sync.Mutex
	req *http.Request
	n   int
}

func (rc *recorded) handler(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.req = r.Clone(context.Background())
	rc.n++
	rc.mu.Unlock()
	w.Header().Set("X-Origin", "yes")
	io.WriteString(w, "origin says hi")
}

func (rc *recorded) last() (*http.Request, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.req, rc.n
}

// hasCookie reports whether the Cookie header of h has a cookie name.
func hasCookie(h http.Header, name string) bool {
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			if k, _, _ := strings.Cut(strings.TrimSpace(part), "="); k == name {
				return true
			}
		}
	}
	return false
}

func (s *fakeStore) AppRevocation(aud string) access.AppRevocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return access.AppRevocation{Hard: s.appHard[aud], Soft: s.appSoft[aud]}
}

// revokeApp records an app revocation at at.
func (s *fakeStore) revokeApp(aud string, soft bool, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if soft {
		s.appSoft[aud] = at
	} else {
		s.appHard[aud] = at
	}
}
