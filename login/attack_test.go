package login

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/limit"
)

// TestEveryResponseRefusesFraming: every team-domain answer, the pages and
// also what limits, JSON endpoints and the router write themselves, carries
// frame-ancestors 'none' and X-Frame-Options DENY.
func TestEveryResponseRefusesFraming(t *testing.T) {
	f := &logoutOIDC{logout: access.LogoutClaims{IdP: "corp", Subject: "nobody", JTI: "j"}}
	hs, _ := logoutHarness(t, f, limit.New(1, time.Minute))
	hs.h.o.Limits.SignIns = limit.New(1, time.Minute)
	bc := access.BackchannelLogoutPath("corp")
	hs.do("POST", bc, url.Values{"logout_token": {"x"}})                  // uses up the back-channel limit
	hs.do("GET", access.PathIdPStart+"corp?"+demoFlow("/").Encode(), nil) // uses up the sign-in limit
	cases := []struct {
		name, method, path string
		form               url.Values
		status             int
	}{
		{"launcher", "GET", access.PathLauncher, nil, 0},
		{"login page", "GET", loginURL(demoHost, "/"), nil, 0},
		{"sign-in limit page", "GET", access.PathIdPStart + "corp", nil, http.StatusTooManyRequests},
		{"back-channel limit JSON", "POST", bc, url.Values{"logout_token": {"x"}}, http.StatusTooManyRequests},
		{"back-channel GET", "GET", bc, nil, 0},
		{"back-channel of a provider without it", "POST", access.BackchannelLogoutPath("plain"), url.Values{"logout_token": {"x"}}, 0},
		{"certs", "GET", access.PathCerts, nil, http.StatusOK},
		{"get-identity", "GET", access.PathGetIdentity, nil, http.StatusUnauthorized},
		{"signed-out", "GET", access.PathSignedOut + "?state=x", nil, http.StatusOK},
		{"logout", "GET", access.PathLogout, nil, http.StatusOK},
		{"unknown path", "GET", "/nope", nil, http.StatusNotFound},
		{"saml metadata", "GET", access.PathSAMLMetadata, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := hs.do(c.method, c.path, c.form)
			if c.status != 0 && w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			if got := w.Header().Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("%d: X-Frame-Options %q", w.Code, got)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%d: CSP %q", w.Code, csp)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%d: X-Content-Type-Options %q", w.Code, got)
			}
		})
	}
}

// evilTargets are redirect targets that a browser could resolve to another
// origin or run as script.
var evilTargets = []string{
	"//evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example", "https://evil.example/",
	"http:/evil.example", "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "%252F%252Fevil.example",
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
	"/\r\nLocation: https://evil.example", "/%0d%0aSet-Cookie:%20x=1", "//evil\u3002example", "/\u2215\u2215evil.example",
	"/\t/evil.example", " //evil.example", "///evil.example", "/cdn-cgi/access/login/../../..//evil.example",
	"/cdn-cgi/access/login//evil.example", "/cdn-cgi/access/login/%2e%2e/%2e%2e/x", "https://auth.example.com@evil.example/",
	"evil.example", "demo.example.com.evil.example", "demo.example.com@evil.example", "evil\u3002example",
}

// offSite reports whether the Location loc or the page body could send the
// browser anywhere but the team domain, a configured app or the provider.
func offSite(loc, body, provider string) string {
	if loc != "" {
		switch {
		case provider != "" && strings.HasPrefix(loc, provider+"?"):
		case strings.HasPrefix(loc, access.PathLogin) && !strings.HasPrefix(loc, "//"):
		default:
			return "Location " + loc
		}
	}
	if loc != "" {
		return "" // the body is the redirect's own link
	}
	lower := strings.ToLower(body)
	for _, bad := range []string{"evil", "javascript:", "data:text", `href="//`, "<script"} {
		if strings.Contains(lower, bad) {
			return "body contains " + bad
		}
	}
	return ""
}

// TestSignOutOpenRedirects throws every evil target through every
// parameter of the sign-out and signed-out pages, GET and POST, signed in
// with a provider that signs out at the IdP and without a session: the
// browser only ever goes to the provider, a team-domain sign-in page or
// stays on the signed-out page.
func TestSignOutOpenRedirects(t *testing.T) {
	f := &logoutOIDC{endURL: "https://idp.example.com/logout"}
	hs, ids := logoutHarness(t, f, nil)
	params := []string{"redirect_url", "host", "post_logout_redirect_uri", "state", "next", "back", "return_to", "returnTo", "redirect", "url"}
	for _, v := range evilTargets {
		for _, p := range params {
			for _, method := range []string{"GET", "POST"} {
				for _, signedIn := range []bool{false, true} {
					name := fmt.Sprintf("%s %s=%q signed-in=%v", method, p, v, signedIn)
					var cs []*http.Cookie
					if signedIn {
						c, _ := corpSession(t, hs, ids, "ann@example.com", "sid-"+p)
						cs = append(cs, c)
					}
					q := url.Values{p: {v}}
					var w *httptest.ResponseRecorder
					if method == "GET" {
						w = hs.do("GET", access.PathLogout+"?"+q.Encode(), nil, cs...)
					} else {
						w = hs.do("POST", access.PathLogout, q, cs...)
					}
					if w.Code >= 500 {
						t.Errorf("%s: %d", name, w.Code)
					}
					if why := offSite(w.Header().Get("Location"), w.Body.String(), f.endURL); why != "" {
						t.Errorf("%s: sign-out: %s", name, why)
					}
					hs.followTeam(t, name, w)
					if signedIn && f.gotPost != testTeamURL+access.PathSignedOut {
						t.Errorf("%s: post_logout_redirect_uri sent to the provider = %q", name, f.gotPost)
					}
					// The provider comes back with the state it was given,
					// and the attacker's parameter besides.
					back := url.Values{"state": {f.gotState}}
					if p != "state" {
						back.Set(p, v)
					}
					w = hs.do("GET", access.PathSignedOut+"?"+back.Encode(), nil)
					if why := offSite(w.Header().Get("Location"), w.Body.String(), ""); why != "" {
						t.Errorf("%s: signed-out: %s", name, why)
					}
					hs.followTeam(t, name, w)
					// A state of the attacker's choosing.
					w = hs.do("GET", access.PathSignedOut+"?"+url.Values{"state": {v}}.Encode(), nil)
					if w.Code != http.StatusOK || w.Header().Get("Location") != "" {
						t.Errorf("%s: an unknown state: %d to %q", name, w.Code, w.Header().Get("Location"))
					}
				}
			}
		}
	}
}

// followTeam follows w's redirect while it stays on a team-domain sign-in
// page and checks that the pages reached send the browser nowhere else.
func (hs *harness) followTeam(t *testing.T, name string, w *httptest.ResponseRecorder) {
	t.Helper()
	for range 3 {
		loc := w.Header().Get("Location")
		if !strings.HasPrefix(loc, access.PathLogin) {
			return
		}
		w = hs.do("GET", loc, nil)
		next := w.Header().Get("Location")
		if next != "" && !strings.HasPrefix(next, access.PathPrefix) && !strings.HasPrefix(next, "https://"+demoHost+"/") {
			t.Errorf("%s: the sign-in page %s goes on to %q", name, loc, next)
		}
		if lower := strings.ToLower(w.Body.String()); strings.Contains(lower, `href="//`) || strings.Contains(lower, "javascript:") {
			t.Errorf("%s: the sign-in page %s links off-site:\n%s", name, loc, w.Body)
		}
	}
}
