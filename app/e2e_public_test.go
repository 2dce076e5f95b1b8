package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/web"
)

// TestPublicSchemeBehindTerminator: with tls.mode = "off" behind a
// TLS-terminating proxy, public_scheme = "https" gives https URLs for the
// login and the team domain, Secure cookies and HSTS.
func TestPublicSchemeBehindTerminator(t *testing.T) {
	env := startEnv(t, strings.Replace(e2eConfig, `global_session = "24h"`, "global_session = \"24h\"\npublic_scheme = \"https\"", 1), "")
	c := newClient(t, true)
	resp, err := c.Get(env.url("app", "/page"))
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "https://auth.localhost:") {
		t.Fatalf("login redirect %d %q, want the https team domain", resp.StatusCode, loc)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != web.HSTSValue {
		t.Errorf("app host HSTS = %q", got)
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure {
			t.Errorf("cookie %s not Secure", ck.Name)
		}
	}
	resp, err = c.Get(env.team + "/")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if got := resp.Header.Get("Strict-Transport-Security"); got != web.HSTSValue {
		t.Errorf("team HSTS = %q", got)
	}
}
