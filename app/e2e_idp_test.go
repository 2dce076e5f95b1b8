package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testidp"
	"github.com/gatehouse-dev/gatehouse/store"
)

// The real IdPs in these tests listen on free ports chosen at run time
// (testidp.StartOIDC and StartSAML with port 0).
const (
	idpTestApps = `
[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]

[[apps]]
name = "only"
domains = ["only.localhost:{{PORT}}"]
origin = "whoami"
idps = ["{{ONLY}}"]
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]
`
)

// idpConfig is a test config with the given [[idps]] blocks; app "only"
// allows provider only.
func idpConfig(idps, only string) string {
	return e2eHeader() + idps + strings.ReplaceAll(idpTestApps, "{{ONLY}}", only)
}

// oidcIdP is an [[idps]] block of the test OpenID provider at issuer.
func oidcIdP(id, issuer, extra string) string {
	return fmt.Sprintf(`
[[idps]]
id = %q
kind = "oidc"
name = "Test OIDC"
issuer = %q
client_id = "proxy"
client_secret = "proxy-secret"
scopes = ["openid", "email", "profile", "groups"]
claims = ["email_verified"]
%s
`, id, issuer, extra)
}

// samlIdP is an [[idps]] block of the SAML IdP whose metadata is at
// metadataURL.
func samlIdP(id, metadataURL string) string {
	return fmt.Sprintf(`
[[idps]]
id = %q
kind = "saml"
name = "Test SAML"
metadata_url = %q
attributes = ["uid"]
`, id, metadataURL)
}

// listenTeam binds Gatehouse's listener on a free port and returns it with
// the team URL, so that an IdP started first can register the callback
// (pass ln to startEnvOn).
func listenTeam(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, fmt.Sprintf("http://auth.localhost:%d", ln.Addr().(*net.TCPAddr).Port)
}

// downURL is the address of an IdP that is down: a port held for the test
// whose connections are closed at once, so no other process can answer on it.
func downURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

// getIdentity returns the team domain's get-identity JSON for c.
func (e *testEnv) getIdentity(t *testing.T, c *http.Client) map[string]any {
	t.Helper()
	resp, err := c.Get(e.team + "/cdn-cgi/access/get-identity")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("get-identity %d: %s", resp.StatusCode, body)
	}
	return m
}

// lastFailure returns the newest sign-in-failed audit detail.
func (e *testEnv) lastFailure(t *testing.T) string {
	t.Helper()
	evs, _, err := e.app.Store().AuditSearch(context.Background(), store.AuditFilter{Kind: access.EventSignInFailed, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return ""
	}
	return evs[0].Detail
}

func groupsOf(m map[string]any) []string {
	var out []string
	if gs, ok := m["groups"].([]any); ok {
		for _, g := range gs {
			out = append(out, fmt.Sprint(g))
		}
	}
	return out
}

// getReachable opens target, retrying while the sign-in shows the
// "not reachable" page: Gatehouse may not have fetched the IdP's discovery
// or metadata yet (it is retried on demand).
func getReachable(t *testing.T, c *http.Client, target string) *http.Response {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := c.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadGateway || i == 20 {
			return resp
		}
		readBody(t, resp)
		time.Sleep(300 * time.Millisecond)
	}
}

// oidcSignIn opens target (the only provider is OIDC: no picker) and signs
// in at the provider as user.
func oidcSignIn(t *testing.T, op *testidp.OIDC, c *http.Client, target, user string) *http.Response {
	t.Helper()
	resp := getReachable(t, c, target)
	if !strings.HasPrefix(resp.Request.URL.String(), op.Issuer) {
		t.Fatalf("sign-in led to %s (%d), want the provider", resp.Request.URL, resp.StatusCode)
	}
	return op.Login(t, c, resp, user)
}

func TestE2EOIDC(t *testing.T) {
	ln, team := listenTeam(t)
	op := testidp.StartOIDC(t, 0, []string{team + access.PathCallback})
	env := startEnvOn(t, ln, idpConfig(oidcIdP("corp", op.Issuer, ""), "corp"), "", Options{})

	t.Run("alice reaches whoami with groups", func(t *testing.T) {
		c := newClient(t, false)
		// "only" allows just corp: straight to the provider.
		resp := oidcSignIn(t, op, c, env.url("only", "/x?format=json"), "alice")
		w := decodeWhoami(t, resp)
		if w.Email != "alice@example.com" {
			t.Errorf("email %q", w.Email)
		}
		id := env.getIdentity(t, c)
		if g := groupsOf(id); !slices.Equal(g, []string{"admins", "devs"}) {
			t.Errorf("groups = %v", g)
		}
		if idp, _ := id["idp"].(map[string]any); idp["id"] != "corp" || idp["type"] != "oidc" {
			t.Errorf("idp = %v", id["idp"])
		}
		if custom, _ := id["custom"].(map[string]any); custom["email_verified"] != true {
			t.Errorf("custom = %v", id["custom"])
		}
	})

	t.Run("unverified email refused", func(t *testing.T) {
		c := newClient(t, false)
		resp := oidcSignIn(t, op, c, env.url("only", "/"), "eve")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not verified") || !strings.Contains(body, "/cdn-cgi/access/login/only.localhost") {
			t.Errorf("got %d:\n%s", resp.StatusCode, body)
		}
		if d := env.lastFailure(t); d != "oidc: email not verified" {
			t.Errorf("audit = %q", d)
		}
		resp, _ = c.Get(env.team + "/cdn-cgi/access/get-identity")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a session exists after a refused sign-in: %d", resp.StatusCode)
		}
		resp.Body.Close()
	})

	t.Run("wrong or reused state refused", func(t *testing.T) {
		c := newClient(t, true)
		for _, state := range []string{"", strings.Repeat("ab", 32)} {
			resp, err := c.Get(env.team + "/cdn-cgi/access/callback?code=x&state=" + state)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Sign in again") {
				t.Errorf("state %q: %d\n%s", state, resp.StatusCode, body)
			}
			if d := env.lastFailure(t); d != "state unknown, expired or reused" {
				t.Errorf("audit = %q", d)
			}
		}
	})

	t.Run("access_denied shows an error page", func(t *testing.T) {
		c := newClient(t, true)
		resp, err := c.Get(env.url("only", "/"))
		if err != nil {
			t.Fatal(err)
		}
		for resp.StatusCode == http.StatusFound && !strings.HasPrefix(resp.Header.Get("Location"), op.Issuer) {
			loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
			resp.Body.Close()
			if resp, err = c.Get(loc.String()); err != nil {
				t.Fatal(err)
			}
		}
		auth, _ := url.Parse(resp.Header.Get("Location"))
		resp.Body.Close()
		state := auth.Query().Get("state")
		if state == "" {
			t.Fatalf("no state in %s", auth)
		}
		// The user cancels: the provider redirects back with an error.
		resp, err = c.Get(env.team + "/cdn-cgi/access/callback?error=access_denied&state=" + state + "&iss=" + url.QueryEscape(op.Issuer))
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		// The code is said in words; the raw code stays in the small
		// detail line, and "Sign in again" restarts the app's sign-in.
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The sign-in was cancelled") ||
			!strings.Contains(body, `<p class="muted detail">Code from the identity provider: access_denied`) ||
			strings.Contains(body, "(access_denied)") || !strings.Contains(body, `href="/cdn-cgi/access/login/only.localhost`) {
			t.Errorf("got %d:\n%s", resp.StatusCode, body)
		}
		if d := env.lastFailure(t); d != "oidc: provider returned error=access_denied" {
			t.Errorf("audit = %q", d)
		}
		// The state was used once: presenting it again is refused.
		resp, _ = c.Get(env.team + "/cdn-cgi/access/callback?code=x&state=" + state)
		if readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("reused state: %d", resp.StatusCode)
		}
	})
}

func TestE2EOIDCUserinfoAndUnreachable(t *testing.T) {
	ln, team := listenTeam(t)
	op := testidp.StartOIDC(t, 0, []string{team + access.PathCallback}, testidp.WithUserinfoOnlyGroups())
	cfg := idpConfig(oidcIdP("corp", op.Issuer, "userinfo = true")+oidcIdP("down", downURL(t), ""), "corp")
	env := startEnvOn(t, ln, cfg, "", Options{})

	c := newClient(t, false)
	resp := oidcSignIn(t, op, c, env.url("only", "/?format=json"), "alice")
	if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
		t.Errorf("email %q", w.Email)
	}
	if g := groupsOf(env.getIdentity(t, c)); !slices.Equal(g, []string{"admins", "devs"}) {
		t.Errorf("groups from userinfo = %v", g)
	}

	// A provider that is down shows a clear page; the others keep working.
	c2 := newClient(t, false)
	resp, err := c2.Get(env.team + "/cdn-cgi/access/start/down?host=auth.localhost:" + fmt.Sprint(env.port) + "&redirect_url=/")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Test OIDC is not reachable right now") {
		t.Errorf("unreachable: %d\n%s", resp.StatusCode, body)
	}
	if d := env.lastFailure(t); !strings.Contains(d, "not reachable") {
		t.Errorf("audit = %q", d)
	}
}

// samlStart opens target and returns the IdP's login page response.
func samlStart(t *testing.T, c *http.Client, target string) *http.Response {
	t.Helper()
	resp := getReachable(t, c, target)
	if !strings.HasPrefix(resp.Request.URL.String(), "http://127.0.0.1:") {
		t.Fatalf("sign-in led to %s (%d): %s", resp.Request.URL, resp.StatusCode, readBody(t, resp))
	}
	return resp
}

// samlResponseForm signs in at the IdP and returns the auto-submit form
// (ACS URL and fields) without posting it.
func samlResponseForm(t *testing.T, c *http.Client, loginPage *http.Response, user, pass string) (string, url.Values) {
	t.Helper()
	page := readBody(t, loginPage)
	action, fields := testidp.FormFields(page)
	fields.Set("username", user)
	fields.Set("password", pass)
	target, _ := loginPage.Request.URL.Parse(action)
	resp, err := c.PostForm(target.String(), fields)
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	action, fields = testidp.FormFields(page)
	if !fields.Has("SAMLResponse") {
		t.Fatalf("no SAMLResponse form:\n%s", page)
	}
	return action, fields
}

func registerSP(t *testing.T, env *testEnv, idp *testidp.SAML, path string) {
	t.Helper()
	c := newClient(t, false)
	resp, err := c.Get(env.team + path)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, env.team+"/cdn-cgi/access/callback") {
		t.Fatalf("sp metadata %d:\n%s", resp.StatusCode, body)
	}
	idp.SetSPMetadata(t, []byte(body))
}

func TestE2ESAML(t *testing.T) {
	idp := testidp.StartSAML(t, 0)
	env := startEnv(t, idpConfig(samlIdP("sso", idp.MetadataURL), "sso"), "")
	registerSP(t, env, idp, "/cdn-cgi/access/saml-metadata")

	t.Run("bob signs in, attributes mapped", func(t *testing.T) {
		c := newClient(t, false)
		resp := idp.Login(t, c, samlStart(t, c, env.url("only", "/s?format=json")), "bob", "bobpass")
		if w := decodeWhoami(t, resp); w.Email != "bob@example.com" {
			t.Errorf("email %q", w.Email)
		}
		id := env.getIdentity(t, c)
		if g := groupsOf(id); !slices.Equal(g, []string{"devs"}) {
			t.Errorf("groups = %v", g)
		}
		if id["name"] != "Bob" {
			t.Errorf("name = %v", id["name"])
		}
		if idp, _ := id["idp"].(map[string]any); idp["id"] != "sso" || idp["type"] != "saml" {
			t.Errorf("idp = %v", id["idp"])
		}
		if custom, _ := id["custom"].(map[string]any); custom["uid"] != "bob" {
			t.Errorf("custom = %v", id["custom"])
		}
	})

	t.Run("replayed response refused", func(t *testing.T) {
		c := newClient(t, false)
		action, fields := samlResponseForm(t, c, samlStart(t, c, env.url("only", "/r?format=json")), "alice", "alicepass")
		resp, err := c.PostForm(action, fields)
		if err != nil {
			t.Fatal(err)
		}
		if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
			t.Fatalf("first post: %q", w.Email)
		}
		// Post the same response again from a fresh browser.
		resp, err = newClient(t, false).PostForm(action, fields)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode == http.StatusOK && strings.Contains(body, "alice@example.com") {
			t.Errorf("replay accepted: %d", resp.StatusCode)
		}
		if d := env.lastFailure(t); d != "state unknown, expired or reused" && d != "saml: assertion replayed" {
			t.Errorf("audit = %q", d)
		}
	})

	t.Run("tampered response refused", func(t *testing.T) {
		c := newClient(t, false)
		action, fields := samlResponseForm(t, c, samlStart(t, c, env.url("only", "/t")), "bob", "bobpass")
		raw, err := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte("bob@example.com")) {
			t.Fatalf("no email in the response")
		}
		raw = bytes.ReplaceAll(raw, []byte("bob@example.com"), []byte("bod@example.com"))
		fields.Set("SAMLResponse", base64.StdEncoding.EncodeToString(raw))
		resp, err := c.PostForm(action, fields)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Sign in again") {
			t.Errorf("tampered: %d\n%s", resp.StatusCode, body)
		}
		if d := env.lastFailure(t); !strings.Contains(d, "signature") {
			t.Errorf("audit = %q", d)
		}
	})

	t.Run("replayed assertion with a fresh state refused", func(t *testing.T) {
		// Same assertion, but a RelayState of a new pending sign-in: the
		// InResponseTo check or the assertion-ID cache refuses it.
		c := newClient(t, false)
		action, fields := samlResponseForm(t, c, samlStart(t, c, env.url("only", "/a")), "bob", "bobpass")
		resp, _ := c.PostForm(action, fields)
		readBody(t, resp)
		c2 := newClient(t, true)
		start, err := c2.Get(env.url("only", "/b"))
		if err != nil {
			t.Fatal(err)
		}
		for start.StatusCode == http.StatusFound && !strings.Contains(start.Header.Get("Location"), "SAMLRequest") {
			loc, _ := start.Request.URL.Parse(start.Header.Get("Location"))
			readBody(t, start)
			start, _ = c2.Get(loc.String())
		}
		idpURL, _ := url.Parse(start.Header.Get("Location"))
		readBody(t, start)
		fields.Set("RelayState", idpURL.Query().Get("RelayState"))
		resp, _ = c2.PostForm(action, fields)
		if body := readBody(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replay with fresh state: %d\n%s", resp.StatusCode, body)
		}
		if d := env.lastFailure(t); !strings.HasPrefix(d, "saml: ") {
			t.Errorf("audit = %q", d)
		}
	})
}

// TestE2ESAMLWrongAudience: a response SimpleSAMLphp issued for another
// Gatehouse (another entity ID and ACS) is refused, even when posted with a
// RelayState of a sign-in pending here. Its Destination and Recipient (B's
// own ACS is checked first) name A, so the audit reason is the recipient;
// idp.TestSAMLParseResponse proves the Audience check on its own.
func TestE2ESAMLWrongAudience(t *testing.T) {
	ssp := testidp.StartSAML(t, 0)
	a := startEnv(t, idpConfig(samlIdP("sso", ssp.MetadataURL), "sso"), "")
	b := startEnv(t, idpConfig(samlIdP("sso", ssp.MetadataURL), "sso"), "")
	var both []byte
	for _, env := range []*testEnv{a, b} {
		resp, err := newClient(t, false).Get(env.team + "/cdn-cgi/access/saml-metadata")
		if err != nil {
			t.Fatal(err)
		}
		md := readBody(t, resp)
		_, md, _ = strings.Cut(md, "?>")
		both = append(both, md...)
	}
	ssp.SetSPMetadata(t, []byte(`<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">`+string(both)+`</md:EntitiesDescriptor>`))

	// A signed response for A.
	ca := newClient(t, false)
	_, fields := samlResponseForm(t, ca, samlStart(t, ca, a.url("only", "/")), "bob", "bobpass")
	raw, _ := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
	if !bytes.Contains(raw, []byte("<saml:Audience>"+a.team+"/cdn-cgi/access/callback</saml:Audience>")) {
		t.Fatalf("response is not for A:\n%s", raw)
	}

	// A sign-in pending at B: its RelayState.
	cb := newClient(t, true)
	var start *http.Response
	for i := 0; ; i++ { // B's metadata fetch may be in its retry pause
		var err error
		if start, err = cb.Get(b.url("only", "/")); err != nil {
			t.Fatal(err)
		}
		for start.StatusCode == http.StatusFound && !strings.Contains(start.Header.Get("Location"), "SAMLRequest") {
			loc, _ := start.Request.URL.Parse(start.Header.Get("Location"))
			readBody(t, start)
			if start, err = cb.Get(loc.String()); err != nil {
				t.Fatal(err)
			}
		}
		if start.StatusCode != http.StatusBadGateway || i == 20 {
			break
		}
		readBody(t, start)
		time.Sleep(300 * time.Millisecond)
	}
	idpURL, _ := url.Parse(start.Header.Get("Location"))
	readBody(t, start)
	if idpURL.Query().Get("RelayState") == "" {
		t.Fatalf("no RelayState at B: %s", idpURL)
	}
	fields.Set("RelayState", idpURL.Query().Get("RelayState"))
	resp, err := cb.PostForm(b.team+"/cdn-cgi/access/callback", fields)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "was not accepted") || !strings.Contains(body, "Sign in again") {
		t.Errorf("foreign response at B: %d\n%s", resp.StatusCode, body)
	}
	d := b.lastFailure(t)
	t.Logf("B refused the response: %s", d)
	switch d {
	case "saml: wrong audience", "saml: wrong recipient":
	default:
		t.Errorf("audit = %q, want the audience or recipient named", d)
	}
	if resp, _ := cb.Get(b.team + "/cdn-cgi/access/get-identity"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session exists at B after a refused response: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
}
