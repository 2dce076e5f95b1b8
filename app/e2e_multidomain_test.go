package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

var multiDomainConfig = e2eHeader() + `
[[apps]]
name = "multi"
domains = ["a.localhost:{{PORT}}", "b.localhost:{{PORT}}", "c.localhost:{{PORT}}", "*.w.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]

[[apps]]
name = "other"
domains = ["other.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]
`

// hopRecorder records the hosts of the /cdn-cgi/access/authorized hops a
// client follows, and runs before each hop when set.
type hopRecorder struct {
	mu     sync.Mutex
	hops   []string
	before func(req *http.Request)
}

func (h *hopRecorder) check(req *http.Request, via []*http.Request) error {
	if len(via) >= 20 {
		return fmt.Errorf("too many redirects")
	}
	if req.URL.Path == "/cdn-cgi/access/authorized" && req.URL.Query().Get("nonce") != "" {
		h.mu.Lock()
		h.hops = append(h.hops, req.URL.Hostname())
		h.mu.Unlock()
		if h.before != nil {
			h.before(req)
		}
	}
	return nil
}

// hasAuthCookie reports whether the jar sends CF_Authorization to u.
func hasAuthCookie(t *testing.T, c *http.Client, u string) bool {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(pu) {
		if ck.Name == "CF_Authorization" && ck.Value != "" {
			return true
		}
	}
	return false
}

// getDirect fetches u without following redirects, with c's cookies.
func getDirect(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	nc := newClient(t, true)
	nc.Jar = c.Jar
	resp, err := nc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestMultiDomainSignInSetsEveryDomain: one sign-in on domain A sets the app
// cookie on A, B and C through the redirect chain (A first, then B and C,
// then back to A's page), so B and C answer at once without a redirect.
func TestMultiDomainSignInSetsEveryDomain(t *testing.T) {
	env := startEnv(t, multiDomainConfig, "")
	c := newClient(t, false)
	rec := &hopRecorder{}
	c.CheckRedirect = rec.check

	resp := env.signInWithPIN(t, c, env.url("a", "/start?x=1&format=json"), "carol@example.com")
	if got := resp.Request.URL.String(); got != env.url("a", "/start?x=1&format=json") {
		t.Errorf("landed on %s, want the page the sign-in started from", got)
	}
	if w := decodeWhoami(t, resp); w.Email != "carol@example.com" {
		t.Errorf("A's origin saw %q", w.Email)
	}
	if got, want := strings.Join(rec.hops, ","), "a.localhost,b.localhost,c.localhost"; got != want {
		t.Errorf("authorized hops = %s, want %s", got, want)
	}
	for _, sub := range []string{"a", "b", "c"} {
		if !hasAuthCookie(t, c, env.url(sub, "/")) {
			t.Errorf("no CF_Authorization cookie for %s.localhost", sub)
		}
	}
	if hasAuthCookie(t, c, env.url("other", "/")) {
		t.Error("another app's domain got the cookie")
	}

	sent := len(env.mail.pins["carol@example.com"])
	for _, sub := range []string{"b", "c"} {
		resp := getDirect(t, c, env.url(sub, "/api?format=json"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d (Location %q), want the origin at once", sub, resp.StatusCode, resp.Header.Get("Location"))
		}
		if w := decodeWhoami(t, resp); w.Email != "carol@example.com" {
			t.Errorf("%s's origin saw %q", sub, w.Email)
		}
	}
	if len(env.mail.pins["carol@example.com"]) != sent {
		t.Error("a PIN was sent again")
	}

	// A wildcard domain is not in the chain; it gets the cookie on its first
	// visit, through the global session and without a PIN.
	wild := fmt.Sprintf("http://x.w.localhost:%d/w?format=json", env.port)
	if hasAuthCookie(t, c, wild) {
		t.Error("the wildcard domain got a cookie from the chain")
	}
	resp, err := c.Get(wild)
	if err != nil {
		t.Fatal(err)
	}
	if w := decodeWhoami(t, resp); w.Email != "carol@example.com" || resp.Request.URL.String() != wild {
		t.Errorf("wildcard domain: email %q at %s", w.Email, resp.Request.URL)
	}
	if !hasAuthCookie(t, c, wild) || len(env.mail.pins["carol@example.com"]) != sent {
		t.Error("the wildcard domain's first visit did not set its cookie without a PIN")
	}
}

// TestMultiDomainHopLinkInAnotherBrowser: another browser that opens a
// sibling's hand-off link first (an attacker who stopped their own chain and
// sends the link to a victim, or the reverse) gets no cookie and burns
// nothing: the rightful browser's chain completes on every domain.
func TestMultiDomainHopLinkInAnotherBrowser(t *testing.T) {
	env := startEnv(t, multiDomainConfig, "")
	c := newClient(t, false)
	rec := &hopRecorder{}
	rec.before = func(req *http.Request) {
		if req.URL.Hostname() != "b.localhost" {
			return
		}
		// Another browser opens B's hand-off link first.
		other := newClient(t, true)
		resp := getDirect(t, other, req.URL.String())
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "another browser") {
			t.Errorf("another browser's use of the link: %d %q", resp.StatusCode, body)
		}
		if hasAuthCookie(t, other, req.URL.String()) {
			t.Error("the hand-off link set a cookie in another browser")
		}
	}
	c.CheckRedirect = rec.check

	resp := env.signInWithPIN(t, c, env.url("a", "/home?format=json"), "carol@example.com")
	if got := resp.Request.URL.String(); got != env.url("a", "/home?format=json") {
		t.Errorf("landed on %s, want the page the sign-in started from", got)
	}
	if w := decodeWhoami(t, resp); w.Email != "carol@example.com" {
		t.Errorf("A's origin saw %q", w.Email)
	}
	if got, want := strings.Join(rec.hops, ","), "a.localhost,b.localhost,c.localhost"; got != want {
		t.Errorf("authorized hops = %s, want %s", got, want)
	}
	if !hasAuthCookie(t, c, env.url("a", "/")) || !hasAuthCookie(t, c, env.url("c", "/")) {
		t.Error("A or C lost its cookie because of B")
	}
	if !hasAuthCookie(t, c, env.url("b", "/")) {
		t.Error("another browser's attempt spoiled B's hand-off")
	}
	if resp := getDirect(t, c, env.url("c", "/?format=json")); resp.StatusCode != http.StatusOK {
		t.Errorf("C: %d, want the origin", resp.StatusCode)
	}
	// B still works on its first visit, through the global session.
	rec.before = nil
	resp, err := c.Get(env.url("b", "/later?format=json"))
	if err != nil {
		t.Fatal(err)
	}
	if w := decodeWhoami(t, resp); w.Email != "carol@example.com" {
		t.Errorf("B after the broken hop: %q", w.Email)
	}
}

// TestMultiDomainChainRefusesForeignHosts: the chain parameters of an
// authorized URL only ever lead to the same app's domains.
func TestMultiDomainChainRefusesForeignHosts(t *testing.T) {
	env := startEnv(t, multiDomainConfig, "")
	tests := []struct {
		name     string
		next     []string
		wantTo   string // "" for a refusal
		wantCode int
	}{
		{"sibling hop", []string{env.url("c", "/cdn-cgi/access/authorized?nonce=n3"), env.url("a", "/back")}, env.url("c", "/cdn-cgi/access/authorized"), http.StatusFound},
		{"return to the app", []string{env.url("a", "/back")}, env.url("a", "/back"), http.StatusFound},
		{"foreign host", []string{"http://evil.example.com/"}, "", http.StatusBadRequest},
		{"another app", []string{env.url("other", "/")}, "", http.StatusBadRequest},
		{"foreign host after a hop", []string{env.url("c", "/x"), "http://evil.example.com/"}, "", http.StatusBadRequest},
		{"javascript", []string{"javascript:alert(1)"}, "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{"next": tt.next}
			resp := getDirect(t, newClient(t, true), env.url("b", "/cdn-cgi/access/authorized?"+v.Encode()))
			readBody(t, resp)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d (Location %q), want %d", resp.StatusCode, loc, tt.wantCode)
			}
			if tt.wantTo != "" && !strings.HasPrefix(loc, tt.wantTo) {
				t.Errorf("Location %q, want %s…", loc, tt.wantTo)
			}
			if resp.Header.Get("Set-Cookie") != "" && strings.Contains(resp.Header.Get("Set-Cookie"), "CF_Authorization=ey") {
				t.Error("a spent nonce set a cookie")
			}
		})
	}
}
