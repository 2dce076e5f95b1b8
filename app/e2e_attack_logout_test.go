package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testidp"
)

// tokenCatcher is a back-channel logout URI that keeps the logout tokens
// posted to it and answers 200, as an attacker's endpoint would.
type tokenCatcher struct {
	mu     sync.Mutex
	tokens []string
}

func (c *tokenCatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	v, _ := url.ParseQuery(string(body))
	c.mu.Lock()
	c.tokens = append(c.tokens, v.Get("logout_token"))
	c.mu.Unlock()
}

func (c *tokenCatcher) last(t *testing.T) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens) == 0 || c.tokens[len(c.tokens)-1] == "" {
		t.Fatal("no logout token was posted")
	}
	return c.tokens[len(c.tokens)-1]
}

// postToken posts a logout token to endpoint and returns the status.
func postToken(t *testing.T, endpoint, tok string) int {
	t.Helper()
	resp, err := newClient(t, true).PostForm(endpoint, url.Values{"logout_token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp.StatusCode
}

// TestE2EBackchannelLogoutAcrossProviders runs two real OpenID providers,
// corp and partner, that both know alice by the subject "alice". A genuine
// logout token of partner (caught on its way) is refused at corp's
// endpoint, ends at partner's endpoint only alice's partner session (her
// corp session with the same sub lives on), and is refused when replayed.
func TestE2EBackchannelLogoutAcrossProviders(t *testing.T) {
	if testing.Short() {
		t.Skip("needs node and oidc-provider")
	}
	catcher := &tokenCatcher{}
	catch := httptest.NewServer(catcher)
	t.Cleanup(catch.Close)
	ln, team := listenTeam(t)
	corp := testidp.StartOIDC(t, 0, []string{team + access.PathCallback},
		testidp.WithBackchannelLogout(team+access.BackchannelLogoutPath("corp")))
	partner := testidp.StartOIDC(t, 0, []string{team + access.PathCallback},
		testidp.WithBackchannelLogout(catch.URL+"/logout"))
	idps := oidcIdP("corp", corp.Issuer, "backchannel_logout = true") +
		oidcIdP("partner", partner.Issuer, "backchannel_logout = true") +
		oidcIdP("quiet", partner.Issuer, "")
	cfg := idpConfig(idps, "corp") + `
[[apps]]
name = "partner-only"
domains = ["partner.localhost:{{PORT}}"]
origin = "whoami"
idps = ["partner"]
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]
`
	env := startEnvOn(t, ln, cfg, "", Options{})
	corpApp, partnerApp := env.url("only", "/x?format=json"), env.url("partner", "/x?format=json")
	viaCorp, viaPartner := newClient(t, false), newClient(t, false)
	if w := decodeWhoami(t, oidcSignIn(t, corp, viaCorp, corpApp, "alice")); w.Email != "alice@example.com" {
		t.Fatalf("corp sign-in as %q", w.Email)
	}
	if w := decodeWhoami(t, oidcSignIn(t, partner, viaPartner, partnerApp, "alice")); w.Email != "alice@example.com" {
		t.Fatalf("partner sign-in as %q", w.Email)
	}
	readBody(t, partner.EndSession(t, viaPartner, partner.Issuer+"/session/end"))
	tok := catcher.last(t)
	served := func(c *http.Client, u string) bool {
		code, _ := statusOf(t, noFollow(t, c), u)
		return code == http.StatusOK
	}

	if code := postToken(t, env.team+access.BackchannelLogoutPath("corp"), tok); code != http.StatusBadRequest {
		t.Errorf("partner's token at corp's endpoint: %d, want 400", code)
	}
	if code := postToken(t, env.team+access.BackchannelLogoutPath("quiet"), tok); code != http.StatusNotFound {
		t.Errorf("at the endpoint of a provider without back-channel logout: %d, want 404", code)
	}
	if !served(viaCorp, corpApp) || !served(viaPartner, partnerApp) {
		t.Fatal("a refused token ended a session")
	}
	if code := postToken(t, env.team+access.BackchannelLogoutPath("partner"), tok); code != http.StatusOK {
		t.Fatalf("partner's token at its own endpoint: %d", code)
	}
	if served(viaPartner, partnerApp) {
		t.Error("alice's partner session lives on after partner's logout")
	}
	if !served(viaCorp, corpApp) {
		t.Error("partner's logout of sub alice ended alice's corp session")
	}
	if code := postToken(t, env.team+access.BackchannelLogoutPath("partner"), tok); code != http.StatusBadRequest {
		t.Errorf("the replayed token: %d, want 400", code)
	}
	for _, tt := range []struct{ name, method, ctype, body string }{
		{"GET", http.MethodGet, "", ""},
		{"PUT", http.MethodPut, "application/x-www-form-urlencoded", "logout_token=" + tok},
		{"multipart", http.MethodPost, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"logout_token\"\r\n\r\n" + tok + "\r\n--x--\r\n"},
		{"JSON", http.MethodPost, "application/json", `{"logout_token":"` + tok + `"}`},
		{"oversized", http.MethodPost, "application/x-www-form-urlencoded", "logout_token=" + tok + "&pad=" + strings.Repeat("a", 70<<10)},
	} {
		req, _ := http.NewRequest(tt.method, env.team+access.BackchannelLogoutPath("corp"), strings.NewReader(tt.body))
		if tt.ctype != "" {
			req.Header.Set("Content-Type", tt.ctype)
		}
		resp, err := newClient(t, true).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode == http.StatusOK || resp.StatusCode >= 500 {
			t.Errorf("%s: %d, want a 4xx", tt.name, resp.StatusCode)
		}
	}
	if !served(viaCorp, corpApp) {
		t.Error("alice's corp session was ended by a malformed request")
	}
}
