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

// TestProviderErrorsAreNotRendered: what a provider (or anyone forging its
// redirect) puts in error, error_description and error_uri never reaches
// the error page raw; only a short code of the characters codes use is
// repeated.
func TestProviderErrorsAreNotRendered(t *testing.T) {
	hs := newHarness(t, Provider{ID: "sso", Name: "Company SSO", Kind: KindOIDC, OIDC: fakeOIDC{}})
	for _, tt := range []struct{ name, code string }{
		{"script in the code", `<script>alert(1)</script>`},
		{"attribute break", `access_denied"><img src=x onerror=alert(1)>`},
		{"template braces", `{{.}}{{template "x"}}`},
		{"CRLF", "access_denied\r\nSet-Cookie: x=1"},
		{"javascript scheme", "javascript:alert(1)"},
		{"very long", strings.Repeat("a", 500)},
		{"unicode look-alike", "access\u2024denied<svg/onload=alert(1)>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := hs.do("GET", access.PathIdPStart+"sso?"+demoFlow("/x").Encode(), nil)
			loc, _ := url.Parse(start.Header().Get("Location"))
			q := url.Values{"state": {loc.Query().Get("state")}, "error": {tt.code},
				"error_description": {`<script>alert("d")</script>`}, "error_uri": {"javascript:alert('u')"}}
			w := hs.do("GET", access.PathCallback+"?"+q.Encode(), nil, cookie(start, access.CookieSignIn), cookie(start, access.CookieSignInReturn))
			body := w.Body.String()
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("%d\n%s", w.Code, body)
			}
			for _, bad := range []string{"<script", "<img", "<svg", "onerror", "onload", "javascript:", "{{", "Set-Cookie", strings.Repeat("a", 101)} {
				if strings.Contains(body, bad) {
					t.Errorf("the error page contains %q:\n%s", bad, body)
				}
			}
			if w.Header().Get("Set-Cookie") != "" && strings.Contains(strings.Join(w.Header().Values("Set-Cookie"), ";"), "x=1") {
				t.Error("a header was injected")
			}
		})
	}
}

// TestBackchannelLogoutRequests: the endpoint reads the token from a form
// body only, at its exact path, and one provider's logout never ends
// another provider's session of the same sub.
func TestBackchannelLogoutRequests(t *testing.T) {
	f := &logoutOIDC{logout: access.LogoutClaims{IdP: "bc", Subject: "sub-ann@example.com", JTI: "j"}}
	hs, ids := logoutHarness(t, f, nil)
	_, corpNonce := corpSession(t, hs, ids, "ann@example.com", "")
	bc := access.BackchannelLogoutPath("bc")
	for _, tt := range []struct {
		name, method, target, ctype, body string
		want                              int
	}{
		{"token in the query string only", "POST", bc + "?logout_token=good", "application/x-www-form-urlencoded", "", http.StatusBadRequest},
		{"token in the query and another in the body", "POST", bc + "?logout_token=good", "application/x-www-form-urlencoded", "logout_token=bad", http.StatusBadRequest},
		{"no content type", "POST", bc, "", "logout_token=good", http.StatusBadRequest},
		{"JSON", "POST", bc, "application/json", `{"logout_token":"good"}`, http.StatusBadRequest},
		{"multipart", "POST", bc, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"logout_token\"\r\n\r\ngood\r\n--x--\r\n", http.StatusBadRequest},
		{"oversized", "POST", bc, "application/x-www-form-urlencoded", "logout_token=good&pad=" + strings.Repeat("a", maxLogoutBody), http.StatusBadRequest},
		{"GET", "GET", bc + "?logout_token=good", "", "", http.StatusNotFound},
		{"PUT", "PUT", bc, "application/x-www-form-urlencoded", "logout_token=good", http.StatusNotFound},
		{"other case of the path", "POST", strings.ToUpper(bc), "application/x-www-form-urlencoded", "logout_token=good", http.StatusNotFound},
		{"trailing slash", "POST", bc + "/", "application/x-www-form-urlencoded", "logout_token=good", http.StatusNotFound},
		{"unknown provider", "POST", access.BackchannelLogoutPath("nope"), "application/x-www-form-urlencoded", "logout_token=good", http.StatusNotFound},
		{"another provider's session of the same sub", "POST", bc, "application/x-www-form-urlencoded; charset=UTF-8", "logout_token=good", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "https://"+testTeam+tt.target, strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			if w := hs.serve(r); w.Code != tt.want {
				t.Errorf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if hs.store.SessionRevoked(corpNonce) {
				t.Fatal("corp's session of the same sub was ended")
			}
		})
	}
}

// TestSignOutFloodStillSignsOutAtTheProvider: one session cookie replayed
// at the sign-out URL fills the pending sign-outs; a user signing out
// then is still sent to the provider to end its session (only the return
// shows the plain signed-out page).
func TestSignOutFloodStillSignsOutAtTheProvider(t *testing.T) {
	f := &logoutOIDC{endURL: "https://idp.example.com/logout"}
	hs, ids := logoutHarness(t, f, nil)
	hs.h.signOuts.max = 3
	attacker, _ := corpSession(t, hs, ids, "mallory@example.com", "m")
	for range 5 {
		hs.do("GET", access.PathLogout, nil, attacker)
	}
	victim, nonce := corpSession(t, hs, ids, "ann@example.com", "a")
	w := hs.do("GET", access.PathLogout, nil, victim)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, f.endURL) {
		t.Fatalf("the victim's sign-out with the table full: %d to %q, want the provider", w.Code, loc)
	}
	if !hs.store.SessionRevoked(nonce) {
		t.Error("the victim's session lives on")
	}
	w = hs.do("GET", access.PathSignedOut+"?state="+f.gotState, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "You are signed out") {
		t.Errorf("the return: %d\n%s", w.Code, w.Body)
	}
}
