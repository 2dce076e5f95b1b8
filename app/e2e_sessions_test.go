package app

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatehouse-dev/gatehouse/access"
)

const (
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaChrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

// headerTransport sets request headers that tests may change between
// requests (a browser's User-Agent, a proxy's X-Forwarded-For).
type headerTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	set  map[string]string
}

func (h *headerTransport) Set(name, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set[name] = value
}

func (h *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	h.mu.Lock()
	for k, v := range h.set {
		r.Header.Set(k, v)
	}
	h.mu.Unlock()
	return h.base.RoundTrip(r)
}

// clientWith is newClient whose requests carry the headers hdr (changeable
// through the returned transport).
func clientWith(t *testing.T, noFollow bool, hdr map[string]string) (*http.Client, *headerTransport) {
	c := newClient(t, noFollow)
	ht := &headerTransport{base: c.Transport, set: map[string]string{}}
	for k, v := range hdr {
		ht.set[k] = v
	}
	c.Transport = ht
	return c, ht
}

var sessionRowRe = regexp.MustCompile(`<tr data-session="([A-Za-z0-9]+)"( data-current="true")?>`)

// sessionsPage opens the team domain's sessions page with c and returns
// the page and the nonces of its rows, the current one first.
func (e *testEnv) sessionsPage(t *testing.T, c *http.Client) (string, []string) {
	t.Helper()
	resp, err := c.Get(e.team + access.PathSessions)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != access.PathSessions {
		t.Fatalf("sessions page: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	var current string
	var others []string
	for _, m := range sessionRowRe.FindAllStringSubmatch(page, -1) {
		if m[2] != "" {
			current = m[1]
		} else {
			others = append(others, m[1])
		}
	}
	if current == "" {
		t.Fatalf("no row marked as this device:\n%s", page)
	}
	return page, append([]string{current}, others...)
}

// endSession posts the sessions page's form with c: nonce, or others=1
// when nonce is "".
func (e *testEnv) endSession(t *testing.T, c *http.Client, page, nonce string, csrf bool) *http.Response {
	t.Helper()
	field := "nonce"
	if nonce == "" {
		field = "others"
	}
	action, vals := parseForm(t, page, field)
	if nonce != "" {
		vals.Set("nonce", nonce)
	}
	if !csrf {
		vals.Del("csrf")
	}
	base, _ := url.Parse(e.team + access.PathSessions)
	resp, err := c.PostForm(resolve(t, base, action), vals)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// revokedByCount counts the revocations of session nonce recorded by by.
func (e *testEnv) revokedByCount(t *testing.T, nonce, by string) int {
	t.Helper()
	var n int
	if err := e.app.Store().SQL().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM revocations WHERE kind = 'session' AND subject = ? AND by = ?`, nonce, by).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEndToEndSelfServiceSessions signs alice in from two "browsers" and bob
// from a third, and checks the sessions page: alice sees her two sessions
// with their devices, may end the other one (which is refused from its next
// request and audited as a revocation by her), may not end bob's, and "sign
// out everywhere else" keeps the current one. Last seen is written at most
// once a minute.
func TestEndToEndSelfServiceSessions(t *testing.T) {
	clock := newFakeClock(time.Now())
	env := startEnvWith(t, e2eConfig, "", Options{Now: clock.Now})
	app := env.url("app", "/hello?format=json")

	a, _ := clientWith(t, false, map[string]string{"User-Agent": uaFirefox})
	b, _ := clientWith(t, false, map[string]string{"User-Agent": uaChrome})
	bob, _ := clientWith(t, false, nil)
	for _, c := range []struct {
		c     *http.Client
		email string
	}{{a, "alice@example.com"}, {b, "alice@example.com"}, {bob, "bob@example.com"}} {
		if resp := env.signInWithPIN(t, c.c, app, c.email); resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in of %s: %d", c.email, resp.StatusCode)
		} else {
			resp.Body.Close()
		}
	}

	page, nonces := env.sessionsPage(t, a)
	if len(nonces) != 2 {
		t.Fatalf("alice sees %d sessions, want 2:\n%s", len(nonces), page)
	}
	mine, other := nonces[0], nonces[1]
	for _, want := range []string{"Firefox 128 on Linux <strong class=\"this-device\">· this device</strong>", "Chrome 126 on Windows", "127.0.0.1", ">pin<", "Sign out everywhere else"} {
		if !strings.Contains(page, want) {
			t.Errorf("sessions page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "bob@") {
		t.Error("alice's sessions page mentions bob")
	}
	bobs, err := env.app.Store().ListSessions(context.Background(), true, clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var bobNonce string
	for _, s := range bobs {
		if s.Identity.Email == "bob@example.com" {
			bobNonce = s.Nonce
		}
	}

	t.Run("another user's session is refused", func(t *testing.T) {
		resp := env.endSession(t, a, page, bobNonce, true)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("ending bob's session: %d, want 404\n%s", resp.StatusCode, body)
		}
		if env.app.Revocations().SessionRevoked(bobNonce) {
			t.Fatal("bob's session was revoked by alice")
		}
		if resp, err := bob.Get(app); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("bob after alice's attempt: %v %v", resp, err)
		}
	})
	t.Run("without the CSRF token", func(t *testing.T) {
		resp := env.endSession(t, a, page, other, false)
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden || env.app.Revocations().SessionRevoked(other) {
			t.Fatalf("post without csrf: %d, revoked %v", resp.StatusCode, env.app.Revocations().SessionRevoked(other))
		}
	})
	t.Run("from another site", func(t *testing.T) {
		action, vals := parseForm(t, page, "nonce")
		vals.Set("nonce", other)
		req, _ := http.NewRequest(http.MethodPost, env.team+action, strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.localhost")
		resp, err := a.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden || env.app.Revocations().SessionRevoked(other) {
			t.Fatalf("cross-site post: %d", resp.StatusCode)
		}
	})

	t.Run("last seen at most once a minute", func(t *testing.T) {
		get := func() time.Time {
			t.Helper()
			if resp, err := b.Get(app); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("b: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			s, err := env.app.Store().Session(context.Background(), other)
			if err != nil {
				t.Fatal(err)
			}
			if s.UserAgent != uaChrome || s.LastIP != "127.0.0.1" {
				t.Errorf("stored user agent %q, last ip %q", s.UserAgent, s.LastIP)
			}
			return s.LastSeenAt
		}
		clock.Advance(2 * time.Minute)
		first := get()
		if first.IsZero() {
			t.Fatal("last seen not recorded")
		}
		clock.Advance(30 * time.Second)
		if again := get(); !again.Equal(first) {
			t.Fatalf("last seen rewritten after 30s: %v then %v", first, again)
		}
		clock.Advance(31 * time.Second)
		if later := get(); !later.After(first) {
			t.Fatalf("last seen not rewritten after 61s: %v then %v", first, later)
		}
	})

	t.Run("end the other session", func(t *testing.T) {
		revokedBefore := env.auditCount(t, "revoked")
		resp := env.endSession(t, a, page, other, true)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != access.PathSessions || !strings.Contains(body, "The session was ended.") {
			t.Fatalf("end session: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if !env.app.Revocations().SessionRevoked(other) || env.app.Revocations().SessionRevoked(mine) {
			t.Fatal("the wrong session was revoked")
		}
		if got := env.auditCount(t, "revoked"); got != revokedBefore+1 {
			t.Errorf("revoked audit events %d → %d, want one more", revokedBefore, got)
		}
		if n := env.revokedByCount(t, other, "alice@example.com"); n != 1 {
			t.Errorf("revocations of the session by alice = %d, want 1", n)
		}
		nb := newClient(t, true)
		nb.Jar = b.Jar
		resp, err := nb.Get(app)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/cdn-cgi/access/login/") {
			t.Fatalf("the ended session's next request: %d %s, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, nonces := env.sessionsPage(t, a); len(nonces) != 1 || nonces[0] != mine {
			t.Fatalf("sessions after ending one: %v", nonces)
		}
	})

	t.Run("sign out everywhere else", func(t *testing.T) {
		c, _ := clientWith(t, false, map[string]string{"User-Agent": uaChrome})
		resp := env.signInWithPIN(t, c, app, "alice@example.com")
		resp.Body.Close()
		page, nonces := env.sessionsPage(t, a)
		if len(nonces) != 2 {
			t.Fatalf("sessions: %v", nonces)
		}
		resp = env.endSession(t, a, page, "", true)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You were signed out everywhere else.") {
			t.Fatalf("sign out everywhere else: %d\n%s", resp.StatusCode, body)
		}
		if !env.app.Revocations().SessionRevoked(nonces[1]) || env.app.Revocations().SessionRevoked(mine) {
			t.Fatal("everywhere else ended the wrong sessions")
		}
		if resp, err := a.Get(app); err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(env.url("app", ""), "http://") {
			t.Fatalf("the current session after everywhere else: %v %v", resp, err)
		}
		if resp, err := bob.Get(app); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("bob after alice signed out everywhere else: %v %v", resp, err)
		}
	})

	t.Run("ending the current session signs out", func(t *testing.T) {
		page, _ := env.sessionsPage(t, a)
		resp := env.endSession(t, a, page, mine, true)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You are signed out") || !env.app.Revocations().SessionRevoked(mine) {
			t.Fatalf("ending the current session: %d\n%s", resp.StatusCode, body)
		}
		resp, err := a.Get(env.team + access.PathSessions)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if !strings.HasPrefix(resp.Request.URL.Path, "/cdn-cgi/access/login/") {
			t.Fatalf("sessions page after signing out: %s, want the sign-in page", resp.Request.URL)
		}
	})
}

// TestEndToEndSelfServiceClosesWebSocket: a user ending one of their
// sessions on the sessions page closes that session's open WebSocket within
// a second (the admin revoke's path), and the current session's socket
// stays open.
func TestEndToEndSelfServiceClosesWebSocket(t *testing.T) {
	origin := echoOrigin(t)
	env := startEnv(t, strings.ReplaceAll(wsConfig, "{{ORIGIN}}", origin.URL), "")
	a, b := newClient(t, false), newClient(t, false)
	for _, c := range []*http.Client{a, b} {
		resp := env.signInWithPIN(t, c, env.url("app", "/"), "erin@example.com")
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
	}
	mineWS, otherWS := dialEcho(t, env, a), dialEcho(t, env, b)
	page, nonces := env.sessionsPage(t, a)
	if len(nonces) != 2 {
		t.Fatalf("sessions: %v", nonces)
	}
	assertClosedWithin(t, otherWS, time.Second, func() {
		resp := env.endSession(t, a, page, nonces[1], true)
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("end session: %d", resp.StatusCode)
		}
	})
	if err := mineWS.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	mineWS.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := mineWS.ReadMessage(); err != nil || string(msg) != "still here" {
		t.Errorf("the current session's socket: %q %v", msg, err)
	}
}
