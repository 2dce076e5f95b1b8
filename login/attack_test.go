package login

import (
	"net/http"
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
