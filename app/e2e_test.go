package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

var e2eConfig = e2eHeader(`global_session = "24h"`, `admins = ["admin@example.com"]`) + `
[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
session_duration = "1h"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
  exclude = [{ emails = ["mallory@example.com"] }]

[[apps]]
name = "other"
domains = ["other.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]
`

// whoami is the JSON the built-in whoami origin answers with.
type whoami struct {
	Email      string            `json:"email"`
	JWTHeader  map[string]any    `json:"jwt_header"`
	JWTPayload map[string]any    `json:"jwt_payload"`
	Headers    map[string]string `json:"headers"`
}

func decodeWhoami(t *testing.T, resp *http.Response) whoami {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("origin answered %d (%s):\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	var w whoami
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatalf("whoami json: %v\n%s", err, body)
	}
	return w
}

func header(w whoami, name string) string {
	for k, v := range w.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// TestEndToEndPINSignIn signs in with a PIN through a cookie jar, reaches
// the whoami origin and validates the token it received the way Cloudflare
// tells origin developers to: go-oidc with a RemoteKeySet on the certs URL.
func TestEndToEndPINSignIn(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	c := newClient(t, false)

	resp := env.signInWithPIN(t, c, env.url("app", "/hello?format=json"), "alice@example.com")
	if got := resp.Request.URL.String(); got != env.url("app", "/hello?format=json") {
		t.Errorf("landed on %s, want the page the sign-in started from", got)
	}
	w := decodeWhoami(t, resp)
	if w.Email != "alice@example.com" {
		t.Errorf("origin saw email %q", w.Email)
	}
	raw := header(w, "Cf-Access-Jwt-Assertion")
	if raw == "" {
		t.Fatal("origin got no Cf-Access-Jwt-Assertion")
	}

	// Validate as an origin would.
	aud := env.app.Apps().ByName("demo").AUD
	ctx := oidc.ClientContext(context.Background(), c)
	verifier := oidc.NewVerifier(env.team, oidc.NewRemoteKeySet(ctx, env.team+"/cdn-cgi/access/certs"), &oidc.Config{ClientID: aud})
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc refused the app token: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Type  string `json:"type"`
		Nonce string `json:"identity_nonce"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "alice@example.com" || claims.Type != "app" || len(claims.Nonce) != 16 {
		t.Errorf("claims = %+v", claims)
	}
	if len(aud) != 64 {
		t.Errorf("AUD %q is not 64 hex", aud)
	}
	// The token of one app is no good for another.
	otherAUD := env.app.Apps().ByName("other").AUD
	v2 := oidc.NewVerifier(env.team, oidc.NewRemoteKeySet(ctx, env.team+"/cdn-cgi/access/certs"), &oidc.Config{ClientID: otherAUD})
	if _, err := v2.Verify(ctx, raw); err == nil {
		t.Error("another app's verifier accepted the token")
	}

	// A second app: the global session skips the PIN.
	sent := len(env.mail.pins["alice@example.com"])
	resp, err = c.Get(env.url("other", "/x?format=json"))
	if err != nil {
		t.Fatal(err)
	}
	w2 := decodeWhoami(t, resp)
	if w2.Email != "alice@example.com" {
		t.Errorf("second app saw %q", w2.Email)
	}
	if len(env.mail.pins["alice@example.com"]) != sent {
		t.Error("a PIN was sent again for the second app")
	}

	// get-identity on the protected host and on the team domain.
	for _, u := range []string{env.url("app", "/cdn-cgi/access/get-identity"), env.team + "/cdn-cgi/access/get-identity"} {
		resp, err = c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		var id map[string]any
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &id) != nil || id["email"] != "alice@example.com" {
			t.Errorf("get-identity %s: %d %s", u, resp.StatusCode, body)
		}
	}

	// Forged identity headers from the client never reach the origin.
	req, _ := http.NewRequest("GET", env.url("app", "/?format=json"), nil)
	req.Header.Set("Cf-Access-Authenticated-User-Email", "ceo@example.com")
	req.Header.Set("Cf-Access-Jwt-Assertion", "forged")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	w3 := decodeWhoami(t, resp)
	if w3.Email != "alice@example.com" || header(w3, "Cf-Access-Jwt-Assertion") == "forged" {
		t.Errorf("forged headers reached the origin: email %q", w3.Email)
	}

	// Sign-out ends the session everywhere.
	resp, err = c.Get(env.url("app", "/cdn-cgi/access/logout"))
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	nc := newClient(t, true)
	nc.Jar = c.Jar
	resp, err = nc.Get(env.url("other", "/"))
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/cdn-cgi/access/login/") {
		t.Errorf("after logout: %d %s, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The raw token of the revoked session is refused too.
	req, _ = http.NewRequest("GET", env.url("app", "/"), nil)
	req.Header.Set("Cf-Access-Token", raw)
	resp, err = newClient(t, true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("revoked token: %d, want 302", resp.StatusCode)
	}
}

// TestEndToEndRefusals covers what must not get through end to end.
func TestEndToEndRefusals(t *testing.T) {
	env := startEnv(t, e2eConfig, "")

	t.Run("blocked user gets 403 and no session on the app", func(t *testing.T) {
		c := newClient(t, false)
		resp := env.signInWithPIN(t, c, env.url("app", "/"), "mallory@example.com")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("xhr without a token gets 401 json", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.url("app", "/api"), nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := newClient(t, true).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		var v struct {
			LoginURL string `json:"login_url"`
		}
		if resp.StatusCode != 401 || json.Unmarshal([]byte(body), &v) != nil || !strings.HasPrefix(v.LoginURL, env.team+"/cdn-cgi/access/login/") {
			t.Errorf("got %d %s", resp.StatusCode, body)
		}
	})
	t.Run("unknown host is 404 and never proxied", func(t *testing.T) {
		resp, err := newClient(t, true).Get(env.url("nobody", "/"))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != 404 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("redirect_url to another origin is refused", func(t *testing.T) {
		for _, target := range []string{"//evil.com/", "https://evil.com/", "/\\evil.com", "javascript:alert(1)"} {
			u := env.team + "/cdn-cgi/access/login/" + "app.localhost:" + itoa(env.port) + "?redirect_url=" + url.QueryEscape(target) + "&app_session=00"
			resp, err := newClient(t, true).Get(u)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil.com") || strings.HasPrefix(loc, "javascript") {
				t.Errorf("%q redirected to %q", target, loc)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%q: status %d, want 400", target, resp.StatusCode)
			}
		}
	})
	t.Run("hand-off nonce is single-use and bound to its host", func(t *testing.T) {
		c := newClient(t, true)
		// Start on the app to get CF_AppSession, then sign in, stopping before /authorized.
		resp, err := c.Get(env.url("app", "/"))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		loginURL := resp.Header.Get("Location")
		resp, err = c.Get(loginURL)
		if err != nil {
			t.Fatal(err)
		}
		page := readBody(t, resp)
		action, vals := parseForm(t, page, "email")
		vals.Set("email", "bob@example.com")
		resp, err = c.PostForm(resolve(t, resp.Request.URL, action), vals)
		if err != nil {
			t.Fatal(err)
		}
		page = readBody(t, resp)
		action, vals = parseForm(t, page, "code")
		vals.Set("code", env.mail.last(t, "bob@example.com"))
		resp, err = c.PostForm(resolve(t, resp.Request.URL, action), vals)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		authorized := resp.Header.Get("Location")
		if !strings.Contains(authorized, "/cdn-cgi/access/authorized?nonce=") {
			t.Fatalf("after the PIN: %d %q", resp.StatusCode, authorized)
		}
		au, _ := url.Parse(authorized)
		// Replayed on another protected host: refused.
		foreign := env.url("other", au.RequestURI())
		resp, err = c.Get(foreign)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("foreign host: %d, want 400", resp.StatusCode)
		}
		// Used once: fine; twice: refused.
		resp, err = c.Get(authorized)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusFound {
			t.Errorf("first use: %d, want 302", resp.StatusCode)
		}
		resp, err = c.Get(authorized)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("reuse: %d, want 400", resp.StatusCode)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
