package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testidp"
	"github.com/gatehouse-dev/gatehouse/store"
)

// startLogoutEnv starts oidc-provider (on a free port) with Gatehouse's
// back-channel logout and post-logout redirect URIs registered for its
// client, then Gatehouse with provider "corp" (extra: more of its keys),
// which app "only" allows alone; apps are more [[apps]] blocks.
func startLogoutEnv(t *testing.T, extra string, apps ...string) (*testEnv, *testidp.OIDC) {
	t.Helper()
	return startLogoutEnvWith(t, nil, extra, apps...)
}

// startLogoutEnvWith is startLogoutEnv with more options for the provider.
func startLogoutEnvWith(t *testing.T, opts []testidp.OIDCOption, extra string, apps ...string) (*testEnv, *testidp.OIDC) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	team := fmt.Sprintf("http://auth.localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	op := testidp.StartOIDC(t, 0, []string{team + access.PathCallback}, append([]testidp.OIDCOption{
		testidp.WithBackchannelLogout(team + access.BackchannelLogoutPath("corp")),
		testidp.WithPostLogoutRedirect(team + access.PathSignedOut)}, opts...)...)
	idps := fmt.Sprintf(`
[[idps]]
id = "corp"
kind = "oidc"
name = "Test OIDC"
issuer = %q
client_id = "proxy"
client_secret = "proxy-secret"
scopes = ["openid", "email", "profile", "groups"]
%s
`, op.Issuer, extra)
	return startEnvOn(t, ln, idpConfig(idps, "corp")+strings.Join(apps, ""), "", Options{}), op
}

// statusOf GETs target with c and returns the status and Location.
func statusOf(t *testing.T, c *http.Client, target string) (int, string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp.StatusCode, resp.Header.Get("Location")
}

// TestE2EBackchannelLogout: ending alice's session at oidc-provider makes
// it POST a logout token to Gatehouse, which ends her global session: her
// app token is refused at the next request, and the revocation is audited
// with the provider named. Bob's session from the same provider lives on.
func TestE2EBackchannelLogout(t *testing.T) {
	if testing.Short() {
		t.Skip("needs node and oidc-provider")
	}
	echo := echoOrigin(t)
	env, op := startLogoutEnv(t, "backchannel_logout = true", `
[[apps]]
name = "echo"
domains = ["ws.localhost:{{PORT}}"]
origin = "`+echo.URL+`"
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]
`)
	app := env.url("only", "/x?format=json")
	alice, bob := newClient(t, false), newClient(t, false)
	if w := decodeWhoami(t, oidcSignIn(t, op, alice, app, "alice")); w.Email != "alice@example.com" {
		t.Fatalf("signed in as %q", w.Email)
	}
	if w := decodeWhoami(t, oidcSignIn(t, op, bob, app, "bob")); w.Email != "bob@example.com" {
		t.Fatalf("signed in as %q", w.Email)
	}
	if code, _ := statusOf(t, noFollow(t, alice), app); code != http.StatusOK {
		t.Fatalf("alice's app token before the logout: %d", code)
	}

	// A WebSocket of alice's session, open while the provider ends it.
	if resp := getReachable(t, alice, env.url("ws", "/")); resp.StatusCode != http.StatusOK || resp.Request.URL.Host != fmt.Sprintf("ws.localhost:%d", env.port) {
		t.Fatalf("alice on the echo app: %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	conn := dialWS(t, alice, env.url("ws", "/ws"))
	assertClosedWithin(t, conn, time.Second, func() {
		readBody(t, op.EndSession(t, alice, op.Issuer+"/session/end"))
	})
	if !strings.Contains(op.Output(), "backchannel.success client=proxy sub=alice") {
		t.Fatalf("the provider did not deliver the logout token:\n%s", op.Output())
	}

	code, loc := statusOf(t, noFollow(t, alice), app)
	if code != http.StatusFound || !strings.HasPrefix(loc, env.team+access.PathLogin) {
		t.Errorf("alice's app token after the back-channel logout: %d to %q, want a redirect to sign in", code, loc)
	}
	if code, _ := statusOf(t, alice, env.team+access.PathGetIdentity); code != http.StatusUnauthorized {
		t.Errorf("alice's global session after the back-channel logout: get-identity %d", code)
	}
	if code, _ := statusOf(t, noFollow(t, bob), app); code != http.StatusOK {
		t.Errorf("bob's app token after alice's logout: %d", code)
	}

	evs, _, err := env.app.Store().AuditSearch(context.Background(), store.AuditFilter{Kind: access.EventRevoked, Email: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].IdP != "corp" || !strings.Contains(evs[0].Detail, "Back-channel logout from Test OIDC") || !strings.Contains(evs[0].Detail, "sid") {
		t.Errorf("audit of the back-channel logout = %+v", evs)
	}
	revs, err := env.app.Store().Revocations(context.Background(), 1)
	if err != nil || len(revs) != 1 || revs[0].Kind != access.RevocationSession || revs[0].By != "idp:corp" {
		t.Errorf("revocation log = %+v, %v", revs, err)
	}

	t.Run("without logout_at_idp, signing out of Gatehouse leaves the provider session", func(t *testing.T) {
		if code, _ := statusOf(t, bob, env.team+access.PathLogout); code != http.StatusOK {
			t.Fatalf("sign-out: %d", code)
		}
		// The provider still knows bob: the sign-in goes straight through.
		if w := decodeWhoami(t, getReachable(t, bob, app)); w.Email != "bob@example.com" {
			t.Errorf("signed back in as %q", w.Email)
		}
	})

	t.Run("invalid requests are refused with the JSON error shape", func(t *testing.T) {
		endpoint := env.team + access.BackchannelLogoutPath("corp")
		c := newClient(t, true)
		for _, tt := range []struct {
			name, ctype, body string
		}{
			{"garbage token", "application/x-www-form-urlencoded", "logout_token=not-a-jwt"},
			{"no token", "application/x-www-form-urlencoded", "other=1"},
			{"JSON body", "application/json", `{"logout_token":"x"}`},
		} {
			postLogoutToken(t, c, endpoint, tt.name, tt.ctype, tt.body)
		}
	})
}

// postLogoutToken posts body to the back-channel logout endpoint and
// checks that it is refused with 400 and the one JSON error shape.
func postLogoutToken(t *testing.T, c *http.Client, endpoint, name, ctype, body string) {
	t.Helper()
	resp, err := c.Post(endpoint, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got := readBody(t, resp)
	var e struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		json.Unmarshal([]byte(got), &e) != nil || e.Status != http.StatusBadRequest || e.Error == "" {
		t.Errorf("%s: %d %s", name, resp.StatusCode, got)
	}
}

// TestE2EBackchannelLogoutBySubject: a provider that sends no sid names
// the subject in its logout token; Gatehouse then ends every session of that
// subject from the provider (alice on two browsers), and no one else's.
func TestE2EBackchannelLogoutBySubject(t *testing.T) {
	if testing.Short() {
		t.Skip("needs node and oidc-provider")
	}
	env, op := startLogoutEnvWith(t, []testidp.OIDCOption{testidp.WithoutSID()}, "backchannel_logout = true")
	app := env.url("only", "/x?format=json")
	laptop, phone, bob := newClient(t, false), newClient(t, false), newClient(t, false)
	for c, user := range map[*http.Client]string{laptop: "alice", phone: "alice", bob: "bob"} {
		decodeWhoami(t, oidcSignIn(t, op, c, app, user))
	}
	readBody(t, op.EndSession(t, laptop, op.Issuer+"/session/end"))
	if !strings.Contains(op.Output(), "backchannel.success client=proxy sub=alice") {
		t.Fatalf("the provider did not deliver the logout token:\n%s", op.Output())
	}
	for name, c := range map[string]*http.Client{"laptop": laptop, "phone": phone} {
		if code, _ := statusOf(t, noFollow(t, c), app); code != http.StatusFound {
			t.Errorf("alice's %s session after the logout by subject: %d", name, code)
		}
	}
	if code, _ := statusOf(t, noFollow(t, bob), app); code != http.StatusOK {
		t.Errorf("bob's session after alice's logout: %d", code)
	}
	evs, _, err := env.app.Store().AuditSearch(context.Background(), store.AuditFilter{Kind: access.EventRevoked, Email: "alice@example.com"})
	if err != nil || len(evs) != 2 || !strings.Contains(evs[0].Detail, "matched by sub") {
		t.Errorf("audit = %+v, %v", evs, err)
	}
}

// TestE2ELogoutAtIdP: with logout_at_idp, Gatehouse's sign-out sends the
// browser on to oidc-provider's end_session_endpoint with the ID token as
// id_token_hint, a state, and the signed-out page as post_logout_redirect_uri;
// after confirming there, the browser is back on Gatehouse's page, and the
// next visit to the app needs the provider's login form again.
func TestE2ELogoutAtIdP(t *testing.T) {
	if testing.Short() {
		t.Skip("needs node and oidc-provider")
	}
	env, op := startLogoutEnv(t, "logout_at_idp = true\nbackchannel_logout = true")
	app := env.url("only", "/x?format=json")
	c := newClient(t, false)
	decodeWhoami(t, oidcSignIn(t, op, c, app, "alice"))

	code, loc := statusOf(t, noFollow(t, c), env.team+access.PathLogout)
	u, err := url.Parse(loc)
	if code != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc, op.Issuer+"/session/end?") {
		t.Fatalf("sign-out: %d to %q, want the provider's end_session_endpoint", code, loc)
	}
	q := u.Query()
	if strings.Count(q.Get("id_token_hint"), ".") != 2 || q.Get("client_id") != "proxy" ||
		q.Get("post_logout_redirect_uri") != env.team+access.PathSignedOut || len(q.Get("state")) != 64 {
		t.Errorf("end session parameters = %v", q)
	}
	if code, _ := statusOf(t, c, env.team+access.PathGetIdentity); code != http.StatusUnauthorized {
		t.Errorf("global session after sign-out: get-identity %d", code)
	}

	resp := op.EndSession(t, c, loc)
	body := readBody(t, resp)
	if !strings.HasPrefix(resp.Request.URL.String(), env.team+access.PathSignedOut+"?") || !strings.Contains(body, "You are also signed out of Test OIDC") {
		t.Errorf("after the provider's sign-out: %s (%d)\n%s", resp.Request.URL, resp.StatusCode, body)
	}

	resp = getReachable(t, c, app)
	page := readBody(t, resp)
	if action, fields := testidp.FormFields(page); !strings.HasPrefix(resp.Request.URL.String(), op.Issuer) || !fields.Has("login") {
		t.Errorf("visiting the app after sign-out: %s (%d), form %q %v; want the provider's login form", resp.Request.URL, resp.StatusCode, action, fields)
	}

	t.Run("signing out on an app host goes on to the provider too", func(t *testing.T) {
		c := newClient(t, false)
		decodeWhoami(t, oidcSignIn(t, op, c, app, "alice"))
		code, loc := statusOf(t, noFollow(t, c), env.url("only", access.PathLogout))
		if code != http.StatusFound || !strings.HasPrefix(loc, env.team+access.PathLogout) {
			t.Fatalf("app host sign-out: %d to %q", code, loc)
		}
		// The app host revoked the session; the team domain still knows
		// which provider it came from.
		code, loc = statusOf(t, noFollow(t, c), loc)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, op.Issuer+"/session/end?") {
			t.Errorf("team sign-out after the app host's: %d to %q", code, loc)
		}
	})

	t.Run("an ID token is not a logout token", func(t *testing.T) {
		postLogoutToken(t, newClient(t, true), env.team+access.BackchannelLogoutPath("corp"), "id_token_hint",
			"application/x-www-form-urlencoded", "logout_token="+url.QueryEscape(q.Get("id_token_hint")))
	})

	t.Run("a replayed or unknown state shows the plain page", func(t *testing.T) {
		code, _ := statusOf(t, c, env.team+access.PathSignedOut+"?state="+q.Get("state"))
		if code != http.StatusOK {
			t.Errorf("replayed state: %d", code)
		}
	})
}

// dialWS opens a WebSocket to the echo origin at u through Gatehouse with
// c's cookies and checks that it echoes.
func dialWS(t *testing.T, c *http.Client, u string) *websocket.Conn {
	t.Helper()
	pu, _ := url.Parse(u)
	var cookies []string
	for _, ck := range c.Jar.Cookies(pu) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	d := websocket.Dialer{NetDialContext: loopbackDialer, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(u, "http"), http.Header{"Cookie": {strings.Join(cookies, "; ")}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "ping" {
		t.Fatalf("echo: %q %v", msg, err)
	}
	return conn
}
