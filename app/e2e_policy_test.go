package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/store"
)

var e2ePolicyConfig = e2eHeader(`trusted_proxies = ["127.0.0.1/32"]`) + `
[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
deny_message = "Mallory is not welcome here."
  [[apps.policies]]
  name = "no mallory"
  decision = "block"
  include = [{ emails = ["mallory@example.com"] }]
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]

[[apps]]
name = "public"
domains = ["app.localhost:{{PORT}}"]
path = "/public"
origin = "whoami"
  [[apps.policies]]
  name = "open"
  decision = "bypass"
  include = [{ everyone = true }]

[[apps]]
name = "net"
domains = ["net.localhost:{{PORT}}"]
origin = "whoami"
deny_message = "Only from the office network."
  [[apps.policies]]
  name = "office"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
  require = [{ ip_ranges = ["10.0.0.0/8"] }]

[[apps]]
name = "svc"
domains = ["svc.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "bots"
  decision = "service_auth"
  include = [{ service_tokens = ["ci-bot"] }]

[[apps]]
name = "bound"
domains = ["bound.localhost:{{PORT}}"]
origin = "whoami"
binding_cookie = true
same_site = "strict"
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]

[[apps]]
name = "api"
domains = ["api.localhost:{{PORT}}"]
origin = "whoami"
  [apps.cors]
  allowed_origins = ["http://spa.example.com"]
  allowed_methods = ["GET", "PUT"]
  allowed_headers = ["X-Api-Key", "Content-Type"]
  allow_credentials = true
  max_age = 600
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]

[[apps]]
name = "passthru"
domains = ["pass.localhost:{{PORT}}"]
origin = "{{ORIGIN}}"
  [apps.cors]
  preflight_bypass = true
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]
`

// xffTransport sets X-Forwarded-For on every request, as a trusted proxy in
// front of Gatehouse would.
type xffTransport struct {
	base http.RoundTripper
	ip   atomic.Value // string
}

func (x *xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if ip, _ := x.ip.Load().(string); ip != "" {
		r.Header.Set("X-Forwarded-For", ip)
	}
	return x.base.RoundTrip(r)
}

// startPolicyEnv starts the policy config with an origin that records the
// methods it sees.
func startPolicyEnv(t *testing.T) (*testEnv, string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Header.Get("Cookie"))
		mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "http://from-origin.example")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(origin.Close)
	dir := t.TempDir()
	env := startEnv(t, strings.ReplaceAll(e2ePolicyConfig, "{{ORIGIN}}", origin.URL), dir)
	t.Cleanup(func() { env.stop(t) })
	return env, dir, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func TestPolicyEndToEnd(t *testing.T) {
	env, _, _ := startPolicyEnv(t)

	t.Run("bypass path without identity", func(t *testing.T) {
		c := newClient(t, true)
		resp, err := c.Get(env.url("app", "/public/page?format=json"))
		if err != nil {
			t.Fatal(err)
		}
		w := decodeWhoami(t, resp)
		if w.Email != "" || header(w, "Cf-Access-Jwt-Assertion") != "" {
			t.Errorf("bypass carried an identity: %+v", w)
		}
		// The rest of the host still needs a sign-in.
		resp, err = c.Get(env.url("app", "/private"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("private path: %d, want a redirect to the login", resp.StatusCode)
		}
	})

	t.Run("block policy shows the deny message", func(t *testing.T) {
		c := newClient(t, false)
		resp := env.signInWithPIN(t, c, env.url("app", "/"), "mallory@example.com")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Mallory is not welcome here.") {
			t.Errorf("blocked sign-in: %d\n%s", resp.StatusCode, body)
		}
		resp = env.signInWithPIN(t, newClient(t, false), env.url("app", "/?format=json"), "alice@example.com")
		if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
			t.Errorf("alice: origin saw %q", w.Email)
		}
	})

	t.Run("ip ranges checked per request", func(t *testing.T) {
		c := newClient(t, false)
		xt := &xffTransport{base: c.Transport}
		xt.ip.Store("10.1.2.3")
		c.Transport = xt
		resp := env.signInWithPIN(t, c, env.url("net", "/?format=json"), "alice@example.com")
		if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
			t.Fatalf("from 10.1.2.3: origin saw %q", w.Email)
		}
		xt.ip.Store("192.0.2.7")
		resp, err := c.Get(env.url("net", "/?format=json"))
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only from the office network.") {
			t.Errorf("same token from 192.0.2.7: %d\n%s", resp.StatusCode, body)
		}
		xt.ip.Store("10.9.9.9")
		resp, err = c.Get(env.url("net", "/?format=json"))
		if err != nil {
			t.Fatal(err)
		}
		if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
			t.Errorf("back in range: origin saw %q", w.Email)
		}
	})

	t.Run("binding cookie", func(t *testing.T) {
		c := newClient(t, false)
		resp := env.signInWithPIN(t, c, env.url("bound", "/?format=json"), "bob@example.com")
		w := decodeWhoami(t, resp)
		if w.Email != "bob@example.com" {
			t.Fatalf("origin saw %q", w.Email)
		}
		if strings.Contains(header(w, "Cookie"), "CF_Binding") {
			t.Error("CF_Binding reached the origin")
		}
		if b, _ := w.JWTPayload["binding"].(string); len(b) != 64 {
			t.Errorf("token binding claim = %v", w.JWTPayload["binding"])
		}
		var auth string
		u := mustURL(t, env.url("bound", "/"))
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "CF_Authorization" {
				auth = ck.Value
			}
		}
		if auth == "" {
			t.Fatal("no CF_Authorization in the jar")
		}
		// The stolen cookie alone is refused.
		thief := newClient(t, true)
		req, _ := http.NewRequest(http.MethodGet, env.url("bound", "/?format=json"), nil)
		req.Header.Set("Cookie", "CF_Authorization="+auth)
		resp, err := thief.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("stolen CF_Authorization without CF_Binding was accepted")
		}
		// And with a wrong binding.
		req.Header.Set("Cookie", "CF_Authorization="+auth+"; CF_Binding=00112233445566778899aabbccddeeff")
		if resp, err = thief.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("stolen CF_Authorization with a wrong CF_Binding was accepted")
		}
		// The browser with both still works.
		if resp, err = c.Get(env.url("bound", "/?format=json")); err != nil {
			t.Fatal(err)
		}
		if w := decodeWhoami(t, resp); w.Email != "bob@example.com" {
			t.Errorf("browser: origin saw %q", w.Email)
		}
	})

	t.Run("CORS preflight answered from config", func(t *testing.T) {
		c := newClient(t, true)
		pre := func(origin string) *http.Response {
			req, _ := http.NewRequest(http.MethodOptions, env.url("api", "/v1/items"), nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "PUT")
			req.Header.Set("Access-Control-Request-Headers", "x-api-key")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		resp := pre("http://spa.example.com")
		want := map[string]string{
			"Access-Control-Allow-Origin":      "http://spa.example.com",
			"Access-Control-Allow-Methods":     "GET, PUT",
			"Access-Control-Allow-Headers":     "X-Api-Key, Content-Type",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Max-Age":           "600",
		}
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("preflight status %d", resp.StatusCode)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if vary := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(vary, "Origin") ||
			!strings.Contains(vary, "Access-Control-Request-Headers") {
			t.Errorf("Vary = %q", vary)
		}
		resp = pre("http://evil.example.com")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign origin: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		// An XHR without a cookie gets the 401 with CORS for the allowed origin.
		req, _ := http.NewRequest(http.MethodGet, env.url("api", "/v1/items"), nil)
		req.Header.Set("Origin", "http://spa.example.com")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		r2, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != http.StatusUnauthorized || r2.Header.Get("Access-Control-Allow-Origin") != "http://spa.example.com" {
			t.Errorf("XHR 401: %d, ACAO %q", r2.StatusCode, r2.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

func TestCORSPreflightBypass(t *testing.T) {
	env, _, seen := startPolicyEnv(t)
	c := newClient(t, true)
	req, _ := http.NewRequest(http.MethodOptions, env.url("pass", "/x"), nil)
	req.Header.Set("Origin", "http://spa.example.com")
	req.Header.Set("Access-Control-Request-Method", "DELETE")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://from-origin.example" {
		t.Errorf("bypassed preflight: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := seen(); len(got) != 1 || !strings.HasPrefix(got[0], "OPTIONS") {
		t.Errorf("origin saw %q, want the one OPTIONS", got)
	}
	// A GET still needs a sign-in.
	resp, err = c.Get(env.url("pass", "/x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(seen()) != 1 {
		t.Errorf("GET without cookie: %d, origin saw %q", resp.StatusCode, seen())
	}
}

func TestServiceTokenEndToEnd(t *testing.T) {
	env, dir, _ := startPolicyEnv(t)
	ctx := context.Background()
	id, secret, err := env.app.db.CreateServiceToken(ctx, "ci-bot", time.Hour, time.Now())
	if err != nil || id == "" || secret == "" {
		t.Fatalf("create: %q %q %v", id, secret, err)
	}
	curl := func(hdr map[string]string) *http.Response {
		t.Helper()
		return getWithHeaders(t, env.url("svc", "/?format=json"), hdr)
	}
	creds := map[string]string{"CF-Access-Client-Id": id, "CF-Access-Client-Secret": secret}

	resp := curl(nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("no credentials: %d, want 403 (never a redirect)", resp.StatusCode)
	}
	resp = curl(map[string]string{"CF-Access-Client-Id": id, "CF-Access-Client-Secret": strings.Repeat("0", 64)})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}

	resp = curl(creds)
	var cookie string
	for _, ck := range resp.Cookies() {
		if ck.Name == "CF_Authorization" {
			cookie = ck.Value
		}
	}
	w := decodeWhoami(t, resp)
	if header(w, "Cf-Access-Client-Id") != "" || header(w, "Cf-Access-Client-Secret") != "" {
		t.Error("service-token headers reached the origin")
	}
	if w.Email != "" || header(w, "Cf-Access-Authenticated-User-Email") != "" {
		t.Errorf("service token carried an email: %q", w.Email)
	}
	if w.JWTPayload["common_name"] != id || w.JWTPayload["sub"] != "" || w.JWTPayload["type"] != "app" {
		t.Errorf("token claims = %v", w.JWTPayload)
	}
	if cookie == "" {
		t.Fatal("no CF_Authorization cookie returned")
	}
	withCookie := map[string]string{"Cookie": "CF_Authorization=" + cookie}
	resp = curl(withCookie)
	if w := decodeWhoami(t, resp); w.JWTPayload["common_name"] != id {
		t.Errorf("cookie alone: claims %v", w.JWTPayload)
	}

	// Disable from another process (as the CLI does): refused within the poll.
	other, err := store.Open(ctx, filepath.Join(dir, "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.DisableServiceToken(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitStatus := func(hdr map[string]string, want int, what string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			resp := curl(hdr)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitStatus(creds, http.StatusForbidden, "headers after disable")
	waitStatus(withCookie, http.StatusForbidden, "cookie after disable")

	if err := other.EnableServiceToken(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitStatus(creds, http.StatusOK, "headers after enable")
	if err := other.DeleteServiceToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitStatus(creds, http.StatusForbidden, "headers after delete")
	waitStatus(withCookie, http.StatusForbidden, "cookie after delete")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
