package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gorilla/websocket"
)

// refreshConfig has an app whose tokens live 2 s under a 1 h global session.
var refreshConfig = e2eHeader(`global_session = "1h"`) + `
[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
session_duration = "2s"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// wsConfig protects a WebSocket echo origin ({{ORIGIN}}) on app.localhost.
var wsConfig = e2eHeader(`global_session = "24h"`) + `
[[apps]]
name = "echo"
domains = ["app.localhost:{{PORT}}"]
origin = "{{ORIGIN}}"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// writeConfigFile writes the config of env (tmpl with its port and dataDir)
// to a file, for the commands that run against the same database.
func writeConfigFile(t *testing.T, tmpl string, env *testEnv, dataDir string) string {
	t.Helper()
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(env.port), "{{DATA}}", filepath.ToSlash(dataDir)).Replace(tmpl)
	path := filepath.Join(t.TempDir(), "gatehouse.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLI runs the gatehouse command line and fails the test unless it
// exits 0; it returns the standard output.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("gatehouse %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// pollUntil polls cond every 10 ms for at most limit and reports whether it
// became true, and after how long.
func pollUntil(limit time.Duration, cond func() bool) (bool, time.Duration) {
	start := time.Now()
	for {
		if cond() {
			return true, time.Since(start)
		}
		if time.Since(start) > limit {
			return false, time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get sends a GET to u with c; with xhr it is marked as XMLHttpRequest.
func get(t *testing.T, c *http.Client, u string, xhr bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if xhr {
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// noFollow returns a client sharing c's cookie jar that does not follow
// redirects.
func noFollow(t *testing.T, c *http.Client) *http.Client {
	nc := newClient(t, true)
	nc.Jar = c.Jar
	return nc
}

// assertRefused checks that c's next navigation to u is sent to sign in and
// its next XHR gets the 401 JSON.
func assertRefused(t *testing.T, env *testEnv, c *http.Client, u string) {
	t.Helper()
	nc := noFollow(t, c)
	resp := get(t, nc, u, false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), env.team+"/cdn-cgi/access/login/") {
		t.Errorf("navigation to %s: %d %q, want 302 to sign in", u, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = get(t, nc, u, true)
	body := readBody(t, resp)
	var v struct {
		LoginURL string `json:"login_url"`
	}
	if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal([]byte(body), &v) != nil || v.LoginURL == "" {
		t.Errorf("XHR to %s: %d %s, want 401 JSON", u, resp.StatusCode, body)
	}
}

// assertServed checks that c reaches u and the origin sees email.
func assertServed(t *testing.T, c *http.Client, u, email string) whoami {
	t.Helper()
	w := decodeWhoami(t, get(t, noFollow(t, c), u, false))
	if w.Email != email {
		t.Errorf("%s: origin saw %q, want %q", u, w.Email, email)
	}
	return w
}

// appToken returns the CF_Authorization cookie c holds for u.
func appToken(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(pu) {
		if ck.Name == "CF_Authorization" {
			return ck.Value
		}
	}
	t.Fatalf("no CF_Authorization cookie for %s", u)
	return ""
}

// setCookie returns the value of the cookie name that resp sets.
func setCookie(resp *http.Response, name string) string {
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// nonceOf returns the identity_nonce of the app token the origin received.
func nonceOf(t *testing.T, w whoami) string {
	t.Helper()
	n, _ := w.JWTPayload["identity_nonce"].(string)
	if n == "" {
		t.Fatalf("no identity_nonce in %v", w.JWTPayload)
	}
	return n
}

// signInBoth signs email in to demo and other with c and returns the
// identity_nonce of the global session.
func signInBoth(t *testing.T, env *testEnv, c *http.Client, email string) string {
	t.Helper()
	w := decodeWhoami(t, env.signInWithPIN(t, c, env.url("app", "/?format=json"), email))
	if w.Email != email {
		t.Fatalf("signed in as %q, want %q", w.Email, email)
	}
	sent := len(env.mail.pins[email])
	if w := decodeWhoami(t, get(t, c, env.url("other", "/?format=json"), false)); w.Email != email {
		t.Fatalf("other: signed in as %q, want %q", w.Email, email)
	}
	if len(env.mail.pins[email]) != sent {
		t.Fatalf("a PIN was sent again for the second app")
	}
	return nonceOf(t, w)
}

// TestEndToEndRevokeUserFromCLI: `gatehouse revoke --user` run against the
// database of a serving Gatehouse (another store handle, as another process
// would have) is picked up within a second; the user's very next request to
// every app is refused, another user is untouched, and signing in again
// works at once.
func TestEndToEndRevokeUserFromCLI(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)

	alice, bob := newClient(t, false), newClient(t, false)
	nonce := signInBoth(t, env, alice, "alice@example.com")
	signInBoth(t, env, bob, "bob@example.com")

	out := runCLI(t, "revoke", "-config", cfgPath, "--user", "alice@example.com")
	if !strings.Contains(out, "revoked user alice@example.com: 1 active session(s)") || !strings.Contains(out, "applied by the running serve") {
		t.Errorf("revoke output: %q", out)
	}
	// In force when the command returns: no waiting for a poll.
	if !env.app.Revocations().SessionRevoked(nonce) {
		t.Fatal("the serving Gatehouse had not applied the revocation when the CLI returned")
	}
	if n := env.auditCount(t, access.EventRevoked); n != 1 {
		t.Errorf("%d revoked audit events after a CLI revoke, want 1 (one ledger for every path)", n)
	}

	for _, sub := range []string{"app", "other"} {
		assertRefused(t, env, alice, env.url(sub, "/?format=json"))
		assertServed(t, bob, env.url(sub, "/?format=json"), "bob@example.com")
	}

	// Signing in again works at once, with a new PIN.
	w := decodeWhoami(t, env.signInWithPIN(t, alice, env.url("app", "/?format=json"), "alice@example.com"))
	if w.Email != "alice@example.com" || nonceOf(t, w) == nonce {
		t.Errorf("after signing in again: email %q, nonce %q (old %q)", w.Email, nonceOf(t, w), nonce)
	}
	// other: through the new global session, without another PIN.
	sent := len(env.mail.pins["alice@example.com"])
	if w := decodeWhoami(t, get(t, alice, env.url("other", "/?format=json"), false)); w.Email != "alice@example.com" {
		t.Errorf("other after signing in again: %q", w.Email)
	}
	if n := len(env.mail.pins["alice@example.com"]); n != sent {
		t.Errorf("%d PIN(s) sent for other after signing in again", n-sent)
	}
}

// TestEndToEndRevokeAppHard: `gatehouse revoke --app demo` makes the user
// sign in with the IdP again for demo only; other keeps serving her.
func TestEndToEndRevokeAppHard(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	alice := newClient(t, false)
	signInBoth(t, env, alice, "alice@example.com")
	aud := env.app.Apps().ByName("demo").AUD

	out := runCLI(t, "revoke", "-config", cfgPath, "--app", "demo")
	if !strings.Contains(out, "revoked app demo") {
		t.Errorf("revoke output: %q", out)
	}
	if ok, took := pollUntil(time.Second, func() bool { return !env.app.Revocations().AppRevocation(aud).Hard.IsZero() }); !ok {
		t.Fatalf("the serving Gatehouse did not learn of the app revocation within %v", took)
	}

	// demo: the token is refused and the global session may not mint a new
	// one, so the user lands on the sign-in page.
	assertRefused(t, env, alice, env.url("app", "/?format=json"))
	sent := len(env.mail.pins["alice@example.com"])
	resp := get(t, alice, env.url("app", "/?format=json"), false)
	page := readBody(t, resp)
	if resp.Request.URL.Host != fmt.Sprintf("auth.localhost:%d", env.port) || !strings.Contains(page, `name="email"`) {
		t.Fatalf("after a hard revoke of demo, landed on %s (%d), want the sign-in page:\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	// other: still served from its token, without a PIN.
	assertServed(t, alice, env.url("other", "/?format=json"), "alice@example.com")
	if n := len(env.mail.pins["alice@example.com"]); n != sent {
		t.Errorf("%d PIN(s) sent for other", n-sent)
	}
	// Signing in again for demo works at once.
	w := decodeWhoami(t, env.signInWithPIN(t, alice, env.url("app", "/?format=json"), "alice@example.com"))
	if w.Email != "alice@example.com" {
		t.Errorf("after signing in again: %q", w.Email)
	}
}

// TestEndToEndRevokeAppSoft: a soft revocation of demo refuses its tokens
// but re-issues them silently from the global session: 200, a new cookie,
// no redirect, no PIN.
func TestEndToEndRevokeAppSoft(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	alice := newClient(t, false)
	signInBoth(t, env, alice, "alice@example.com")
	aud := env.app.Apps().ByName("demo").AUD
	before := appToken(t, alice, env.url("app", "/"))
	if hard, soft := env.app.Revocations().AppRevocation(aud).Refuses(mustIAT(t, before)); hard || soft {
		t.Fatal("token revoked before any revocation")
	}

	out := runCLI(t, "revoke", "-config", cfgPath, "--app", "demo", "--soft")
	if !strings.Contains(out, "soft-revoked app demo") {
		t.Errorf("revoke output: %q", out)
	}
	if ok, took := pollUntil(time.Second, func() bool { return !env.app.Revocations().AppRevocation(aud).Soft.IsZero() }); !ok {
		t.Fatalf("the serving Gatehouse did not learn of the app revocation within %v", took)
	}
	if _, soft := env.app.Revocations().AppRevocation(aud).Refuses(mustIAT(t, before)); !soft {
		t.Fatal("the old token is not refused by the soft revocation")
	}

	sent := len(env.mail.pins["alice@example.com"])
	for _, xhr := range []bool{false, true} {
		resp := get(t, noFollow(t, alice), env.url("app", "/?format=json"), xhr)
		fresh := setCookie(resp, "CF_Authorization")
		w := decodeWhoami(t, resp)
		if w.Email != "alice@example.com" {
			t.Errorf("xhr=%v: origin saw %q", xhr, w.Email)
		}
		if xhr {
			// The navigation already stored the re-issued token.
			if fresh != "" {
				t.Errorf("the re-issued token was re-issued again")
			}
			continue
		}
		if fresh == "" || fresh == before {
			t.Fatalf("no new CF_Authorization cookie after the soft revocation (got %q)", fresh)
		}
		if got := header(w, "Cf-Access-Jwt-Assertion"); got != fresh {
			t.Errorf("the origin got another token than the re-issued one")
		}
	}
	if n := len(env.mail.pins["alice@example.com"]); n != sent {
		t.Errorf("%d PIN(s) sent", n-sent)
	}
	assertServed(t, alice, env.url("other", "/?format=json"), "alice@example.com")
}

// mustIAT returns the iat claim of the JWT raw, without checking it.
func mustIAT(t *testing.T, raw string) int64 {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		IAT int64 `json:"iat"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.IAT == 0 {
		t.Fatalf("iat of %s: %v", b, err)
	}
	return c.IAT
}

// TestEndToEndSilentRefresh: with a 2 s app token and a 1 h global session,
// an XHR after the token expired gets 200 and a new cookie; after the
// global session ended it gets the 401 JSON.
func TestEndToEndSilentRefresh(t *testing.T) {
	clock := newFakeClock(time.Now())
	env := startEnvWith(t, refreshConfig, "", Options{Now: clock.Now})
	alice := newClient(t, false)
	w := decodeWhoami(t, env.signInWithPIN(t, alice, env.url("app", "/?format=json"), "alice@example.com"))
	if w.Email != "alice@example.com" {
		t.Fatalf("signed in as %q", w.Email)
	}
	first := appToken(t, alice, env.url("app", "/"))
	// From here on the cookie is sent by hand: the jar would drop a cookie
	// with a 2 s Max-Age on its own (real) clock.
	plain := newClient(t, true)
	plain.Jar = nil
	xhr := func(tok string) *http.Response {
		req, _ := http.NewRequest("GET", env.url("app", "/api?format=json"), nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		req.AddCookie(&http.Cookie{Name: "CF_Authorization", Value: tok})
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	// Still valid: served, nothing re-issued.
	resp := xhr(first)
	if setCookie(resp, "CF_Authorization") != "" {
		t.Error("a valid token was re-issued")
	}
	decodeWhoami(t, resp)

	// Past exp and the 60 s clock-skew allowance: refreshed inline.
	clock.Advance(65 * time.Second)
	resp = xhr(first)
	fresh := setCookie(resp, "CF_Authorization")
	w = decodeWhoami(t, resp)
	if fresh == "" || fresh == first {
		t.Fatalf("expired token: no new CF_Authorization cookie (got %q)", fresh)
	}
	if w.Email != "alice@example.com" || header(w, "Cf-Access-Jwt-Assertion") != fresh {
		t.Errorf("refreshed request: email %q, origin token is the new one: %v", w.Email, header(w, "Cf-Access-Jwt-Assertion") == fresh)
	}
	if exp, _ := w.JWTPayload["exp"].(float64); int64(exp) <= clock.Now().Unix() {
		t.Errorf("the re-issued token expires at %v, not after now", exp)
	}
	// The new token is served as is.
	resp = xhr(fresh)
	if setCookie(resp, "CF_Authorization") != "" {
		t.Error("the fresh token was re-issued again")
	}
	decodeWhoami(t, resp)

	// After the global session ended: 401 JSON, no cookie.
	clock.Advance(time.Hour)
	resp = xhr(fresh)
	body := readBody(t, resp)
	var v struct {
		LoginURL string `json:"login_url"`
	}
	if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal([]byte(body), &v) != nil || !strings.HasPrefix(v.LoginURL, env.team+"/cdn-cgi/access/login/") {
		t.Errorf("after the global session: %d %s, want 401 JSON", resp.StatusCode, body)
	}
	if setCookie(resp, "CF_Authorization") != "" {
		t.Error("a token was minted after the global session ended")
	}
}

// echoOrigin is a WebSocket echo server.
func echoOrigin(t *testing.T) *httptest.Server {
	t.Helper()
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			fmt.Fprintln(w, "echo origin")
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dialEcho opens a WebSocket through Gatehouse with c's cookies and checks
// that it echoes.
func dialEcho(t *testing.T, env *testEnv, c *http.Client) *websocket.Conn {
	t.Helper()
	u := env.url("app", "/ws")
	pu, _ := url.Parse(u)
	var cookies []string
	for _, ck := range c.Jar.Cookies(pu) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	d := websocket.Dialer{NetDialContext: loopbackDialer, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(u, "http"), http.Header{"Cookie": {strings.Join(cookies, "; ")}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", u, err, status)
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

// assertClosedWithin starts revoke and checks that conn fails to read
// within limit (waiting at most 1.5 s).
func assertClosedWithin(t *testing.T, conn *websocket.Conn, limit time.Duration, revoke func()) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, _, err := conn.ReadMessage()
		errc <- err
	}()
	revoke()
	select {
	case err := <-errc:
		took := time.Since(start)
		t.Logf("WebSocket closed %v after the revocation began (%v)", took, err)
		if took > limit {
			t.Errorf("WebSocket closed after %v, want within %v", took, limit)
		}
	case <-time.After(1500 * time.Millisecond):
		t.Fatalf("WebSocket still open 1.5 s after the revocation")
	}
}

// TestEndToEndWebSocketClosedOnRevocation: an open WebSocket through
// Gatehouse is closed within a second of its session's revocation, whether
// by the user's logout (in process) or by `gatehouse revoke --user` (another
// store handle, picked up by polling); a third user's socket stays open.
func TestEndToEndWebSocketClosedOnRevocation(t *testing.T) {
	origin := echoOrigin(t)
	tmpl := strings.ReplaceAll(wsConfig, "{{ORIGIN}}", origin.URL)
	dataDir := t.TempDir()
	env := startEnv(t, tmpl, dataDir)
	cfgPath := writeConfigFile(t, tmpl, env, dataDir)

	clients := map[string]*http.Client{}
	conns := map[string]*websocket.Conn{}
	for _, email := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		c := newClient(t, false)
		resp := env.signInWithPIN(t, c, env.url("app", "/"), email)
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s sign-in: %d", email, resp.StatusCode)
		}
		clients[email] = c
		conns[email] = dialEcho(t, env, c)
	}

	t.Run("logout", func(t *testing.T) {
		assertClosedWithin(t, conns["alice@example.com"], time.Second, func() {
			readBody(t, get(t, clients["alice@example.com"], env.url("app", "/cdn-cgi/access/logout"), false))
		})
	})
	t.Run("cli revoke user", func(t *testing.T) {
		assertClosedWithin(t, conns["bob@example.com"], time.Second, func() {
			runCLI(t, "revoke", "-config", cfgPath, "--user", "bob@example.com")
		})
	})
	t.Run("other sessions stay open", func(t *testing.T) {
		conn := conns["carol@example.com"]
		if err := conn.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "still here" {
			t.Errorf("carol's socket: %q %v", msg, err)
		}
	})
	t.Run("revoked session cannot reopen", func(t *testing.T) {
		u := env.url("app", "/ws")
		pu, _ := url.Parse(u)
		var cookies []string
		for _, ck := range clients["alice@example.com"].Jar.Cookies(pu) {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
		d := websocket.Dialer{NetDialContext: loopbackDialer, HandshakeTimeout: 5 * time.Second}
		conn, resp, err := d.Dial("ws"+strings.TrimPrefix(u, "http"), http.Header{"Cookie": {strings.Join(cookies, "; ")}})
		if err == nil {
			conn.Close()
			t.Fatal("a revoked session opened a WebSocket")
		}
		if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
			t.Errorf("dial after revocation: %v", err)
		}
	})
}

// TestEndToEndRevocationsSurviveRestart: a logged-out session's token, and
// an app's hard revocation, are still refused after a restart on the same
// data dir; a live session's token keeps working.
func TestEndToEndRevocationsSurviveRestart(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)

	alice, bob := newClient(t, false), newClient(t, false)
	aliceNonce := signInBoth(t, env, alice, "alice@example.com")
	aliceRaw := appToken(t, alice, env.url("app", "/"))
	signInBoth(t, env, bob, "bob@example.com")
	bobRaw := appToken(t, bob, env.url("app", "/"))
	bobOther := appToken(t, bob, env.url("other", "/"))

	readBody(t, get(t, alice, env.url("app", "/cdn-cgi/access/logout"), false))
	otherAUD := env.app.Apps().ByName("other").AUD
	if err := env.app.revoking().RevokeApp(context.Background(), "other", otherAUD, false, "test", time.Now()); err != nil {
		t.Fatal(err)
	}

	byToken := func(env *testEnv, sub, raw string) int {
		req, _ := http.NewRequest("GET", env.url(sub, "/?format=json"), nil)
		req.Header.Set("Cf-Access-Token", raw)
		resp, err := newClient(t, true).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp.StatusCode
	}
	check := func(env *testEnv, when string) {
		t.Helper()
		if got := byToken(env, "app", aliceRaw); got != http.StatusFound {
			t.Errorf("%s: alice's revoked token: %d, want 302", when, got)
		}
		if got := byToken(env, "app", bobRaw); got != http.StatusOK {
			t.Errorf("%s: bob's token: %d, want 200", when, got)
		}
		if got := byToken(env, "other", bobOther); got != http.StatusFound {
			t.Errorf("%s: bob's token for the hard-revoked app: %d, want 302", when, got)
		}
	}
	check(env, "before the restart")
	port := env.port
	env.stop(t)

	env2 := startEnvAt(t, e2eConfig, dataDir, Options{}, port)
	if env2.team != env.team {
		t.Fatalf("team URL changed across the restart: %s → %s", env.team, env2.team)
	}
	if !env2.app.Revocations().SessionRevoked(aliceNonce) {
		t.Error("the revoked session is not in the index after the restart")
	}
	check(env2, "after the restart")
	// bob's browser session still works after the restart.
	assertServed(t, bob, env2.url("app", "/?format=json"), "bob@example.com")
}

// TestSessionsListCommand: `gatehouse sessions list` shows the signed-in
// users' active sessions, and with --all the revoked ones too.
func TestSessionsListCommand(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	alice, bob := newClient(t, false), newClient(t, false)
	aliceNonce := signInBoth(t, env, alice, "alice@example.com")
	bobNonce := signInBoth(t, env, bob, "bob@example.com")
	readBody(t, get(t, bob, env.url("app", "/cdn-cgi/access/logout"), false))

	line := func(out, nonce string) string {
		for l := range strings.SplitSeq(out, "\n") {
			if strings.Contains(l, nonce) {
				return l
			}
		}
		return ""
	}
	out := runCLI(t, "sessions", "list", "-config", cfgPath)
	if l := line(out, aliceNonce); !strings.Contains(l, "alice@example.com") || !strings.HasSuffix(strings.TrimSpace(l), "active") {
		t.Errorf("alice's active session missing:\n%s", out)
	}
	if line(out, bobNonce) != "" || !strings.Contains(out, "1 session(s)") {
		t.Errorf("active list shows bob's revoked session or a wrong count:\n%s", out)
	}
	out = runCLI(t, "sessions", "list", "-config", cfgPath, "--all")
	if l := line(out, bobNonce); !strings.Contains(l, "bob@example.com") || !strings.Contains(l, "revoked") {
		t.Errorf("--all lacks bob's revoked session:\n%s", out)
	}
	if l := line(out, aliceNonce); !strings.Contains(l, "active") {
		t.Errorf("--all lacks alice's active session:\n%s", out)
	}
}

// TestCLIRevokeWithoutServe: with no serve on the database, the command says
// the revocation applies when one starts.
func TestCLIRevokeWithoutServe(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	signInBoth(t, env, newClient(t, false), "carl@example.com")
	env.stop(t)
	out := runCLI(t, "revoke", "-config", cfgPath, "--user", "carl@example.com")
	if !strings.Contains(out, "no gatehouse serve is running on this database") {
		t.Errorf("revoke output without a serve: %q", out)
	}
}
