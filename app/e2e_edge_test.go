package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// edgeConfig is an app reached through an edge proxy on edge.localhost,
// with a bypassed /public/ part; the edge is trusted.
var edgeConfig = e2eHeader(`trusted_proxies = ["127.0.0.1"]`, `admins = ["admin@example.com"]`) + `
[[apps]]
name = "edge"
domains = ["edge.localhost:{{EDGE_PORT}}"]
forward_auth = true
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
  [[apps.policies]]
  name = "robots"
  decision = "service_auth"
  include = [{ service_tokens = ["ci"] }]

[[apps]]
name = "edge-public"
domains = ["edge.localhost:{{EDGE_PORT}}"]
path = "/public/*"
forward_auth = true
  [[apps.policies]]
  name = "open"
  decision = "bypass"
  include = [{ everyone = true }]
`

// upstreamHit is what the upstream behind the edge received.
type upstreamHit struct {
	path   string
	header http.Header
}

// edgeUpstream records every request that reaches it.
type edgeUpstream struct {
	mu   sync.Mutex
	hits []upstreamHit
}

func (u *edgeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.hits = append(u.hits, upstreamHit{path: r.URL.Path, header: r.Header.Clone()})
	u.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><title>upstream</title><p id="who">%s</p>`, r.Header.Get(access.HeaderUserEmail))
}

func (u *edgeUpstream) take() []upstreamHit {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.hits
	u.hits = nil
	return out
}

// startEdge runs the edge proxy kind ("nginx", "caddy" or "haproxy") with the config
// file from scripts/e2e/edge in front of Gatehouse at gatehouse and the
// upstream, listening on port.
func startEdge(t *testing.T, kind string, port int, gatehouse, upstream string) {
	t.Helper()
	bin := testkit.Program(t, kind)
	dir := t.TempDir()
	file := map[string]string{"nginx": "nginx.conf", "caddy": "Caddyfile", "haproxy": "haproxy.cfg"}[kind]
	tmpl, err := os.ReadFile(filepath.Join("..", "scripts", "e2e", "edge", file))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("{{DIR}}", dir, "{{EDGE_PORT}}", fmt.Sprint(port),
		"{{GATEHOUSE}}", gatehouse, "{{UPSTREAM_HOSTPORT}}", strings.TrimPrefix(upstream, "http://"),
		"{{UPSTREAM}}", upstream).Replace(string(tmpl))
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch kind {
	case "nginx":
		cmd = exec.Command(bin, "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	case "caddy":
		cmd = exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	case "haproxy":
		lua, err := os.ReadFile(filepath.Join("..", "scripts", "e2e", "edge", "gatehouse.lua"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "gatehouse.lua"), lua, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin, "-db", "-f", path)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: nginx's workers must go with the master.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", kind, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", kind, out.String())
			if b, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
				t.Logf("%s error log:\n%s", kind, b)
			}
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start listening: %v\n%s", kind, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEdgeForwardAuth runs Gatehouse behind real nginx and Caddy in
// forward-auth mode and checks, through each: a Chromium sign-in landing on
// the upstream with the identity headers, client-sent identity headers
// never reaching the upstream, a bypass path, an XHR 401 with the login
// URL, and a revoke refused at the next request.
func TestEdgeForwardAuth(t *testing.T) {
	for _, kind := range []string{"nginx", "caddy", "haproxy"} {
		t.Run(kind, func(t *testing.T) {
			up := &edgeUpstream{}
			upstream := httptest.NewServer(up)
			defer upstream.Close()
			port := freePort(t)
			env := startEnv(t, strings.NewReplacer("{{UPSTREAM}}", upstream.URL, "{{EDGE_PORT}}", fmt.Sprint(port)).Replace(edgeConfig), "")
			startEdge(t, kind, port, fmt.Sprintf("127.0.0.1:%d", env.port), upstream.URL)
			site := func(path string) string { return fmt.Sprintf("http://edge.localhost:%d%s", port, path) }

			// Not signed in: no request reaches the upstream.
			c := newClient(t, true)
			resp, err := c.Get(site("/private"))
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusFound || !(strings.Contains(loc, "/cdn-cgi/access/login/edge.localhost") || strings.Contains(loc, "/cdn-cgi/access/sign-in?")) {
				t.Fatalf("navigation without a session: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			req, _ := http.NewRequest("GET", site("/api"), nil)
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("XHR without a session: %d", resp.StatusCode)
			}
			if kind == "caddy" && !strings.Contains(body, "login_url") {
				t.Errorf("XHR 401 body has no login URL: %s", body)
			}
			// The bypass path, with forged identity headers.
			req, _ = http.NewRequest("GET", site("/public/page"), nil)
			req.Header.Set(access.HeaderUserEmail, "forged@evil.example")
			req.Header["Cf_Access_Authenticated_User_Email"] = []string{"forged@evil.example"}
			req.Header.Set(access.HeaderJWTAssertion, "forged")
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("bypass path: %d", resp.StatusCode)
			}
			hits := up.take()
			if len(hits) != 1 || hits[0].path != "/public/page" {
				t.Fatalf("upstream hits before sign-in: %+v", hits)
			}
			assertNoForged(t, hits[0].header)

			// A Chromium sign-in through the edge.
			ctx := newBrowser(t)
			step(t, ctx, "open the app through "+kind, chromedp.Navigate(site("/private")), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
			browserSignInWithPIN(t, ctx, env.mail, "erin@example.com", `#who`, "")
			if who := text(t, ctx, "#who"); who != "erin@example.com" {
				t.Fatalf("upstream saw %q", who)
			}
			screenshot(t, ctx, "edge-"+kind+".png")
			hits = up.take()
			if len(hits) == 0 || hits[len(hits)-1].header.Get(access.HeaderJWTAssertion) == "" {
				t.Fatalf("upstream got no assertion: %+v", hits)
			}

			// The signed-in browser's cookie, used by a script with forged headers.
			cookie := browserCookie(t, ctx, site("/"))
			req, _ = http.NewRequest("GET", site("/private"), nil)
			req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: cookie})
			req.Header.Set(access.HeaderUserEmail, "forged@evil.example")
			req.Header["Cf_Access_Authenticated_User_Email"] = []string{"forged@evil.example"}
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			hits = up.take()
			if resp.StatusCode != http.StatusOK || len(hits) != 1 || hits[0].header.Get(access.HeaderUserEmail) != "erin@example.com" {
				t.Fatalf("signed-in request: %d, hits %+v", resp.StatusCode, hits)
			}
			assertNoForged(t, hits[0].header)

			// A service token through the edge: the upstream gets a token, not
			// the credentials.
			id, secret, err := env.app.Store().CreateServiceToken(t.Context(), "ci", time.Hour, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			env.app.Store().PollServiceTokens(t.Context()) //nolint:errcheck // the serve polls too
			sreq, _ := http.NewRequest("GET", site("/api"), nil)
			sreq.Header.Set(access.HeaderClientID, id)
			sreq.Header.Set(access.HeaderClientSecret, secret)
			resp, err = c.Do(sreq)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			hits = up.take()
			if resp.StatusCode != http.StatusOK || len(hits) != 1 || hits[0].header.Get(access.HeaderJWTAssertion) == "" ||
				hits[0].header.Get(access.HeaderClientSecret) != "" || hits[0].header.Get(access.HeaderClientID) != "" {
				t.Fatalf("service token through %s: %d, hits %+v", kind, resp.StatusCode, hits)
			}

			// Revoke the user: the next request is refused and never reaches the upstream.
			if _, err := env.app.revoking().RevokeUser(t.Context(), "erin@example.com", "test", time.Now()); err != nil {
				t.Fatal(err)
			}
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.StatusCode == http.StatusOK || len(up.take()) != 0 {
				t.Fatalf("after the revoke: %d and the upstream was reached", resp.StatusCode)
			}
		})
	}
}

// assertNoForged fails when a client-sent identity header reached the upstream.
func assertNoForged(t *testing.T, h http.Header) {
	t.Helper()
	for name, vals := range h {
		for _, v := range vals {
			if strings.Contains(v, "forged") {
				t.Errorf("forged %s: %q reached the upstream", name, v)
			}
		}
	}
}

// browserCookie returns the CF_Authorization cookie the browser holds for u.
func browserCookie(t *testing.T, ctx context.Context, u string) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == access.CookieAuthorization {
			return c.Value
		}
	}
	t.Fatalf("the browser holds no CF_Authorization for %s", u)
	return ""
}
