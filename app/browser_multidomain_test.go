package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// siteURL is http://<sub>.example.com:PORT<path> for env.
func siteURL(env *testEnv, sub, path string) string {
	return fmt.Sprintf("http://%s.example.com:%d%s", sub, env.port, path)
}

// multiDomainBrowserConfig is a three-domain app whose origin is a test
// server; {{ORIGIN}} is its URL. The domains share one site (example.com),
// as sibling domains of one app usually do, so the default SameSite=Lax
// cookie goes along with the cross-origin fetch. (Each *.localhost name is
// a site of its own: Chromium treats a fetch between two of them as
// third-party and sends no cookie at all, not even SameSite=None; Secure.)
var multiDomainBrowserConfig = e2eHeader() + `
[[apps]]
name = "spa"
domains = ["a.example.com:{{PORT}}", "b.example.com:{{PORT}}", "c.example.com:{{PORT}}"]
origin = "{{ORIGIN}}"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// spaPage is the single-page app served on domain A: it calls domain C's
// API with credentials as soon as it loads.
const spaPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>SPA</title>
<style>body{font-family:system-ui,sans-serif;margin:40px}#result{padding:16px;border:1px solid #ccc;border-radius:8px;font-family:monospace}</style>
</head><body>
<h1>Single-page app on domain A</h1>
<p>Calling <code id="target">%s</code> with credentials:</p>
<div id="result">loading…</div>
<script src="/app.js"></script>
</body></html>`

const spaScript = `
const target = document.getElementById("target").textContent;
fetch(target, {credentials: "include"})
  .then(r => r.text().then(t => ({status: r.status, text: t})))
  .then(r => { document.getElementById("result").textContent = "status " + r.status + ": " + r.text; })
  .catch(e => { document.getElementById("result").textContent = "failed: " + e; });
`

// spaOrigin is the test origin behind every domain of the app: /page and
// /app.js for the page, /api answering with the identity header Gatehouse
// injected, with CORS for the calling origin.
func spaOrigin(t *testing.T, apiURL *string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, spaPage, *apiURL)
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, spaScript)
		case "/api":
			if o := r.Header.Get("Origin"); o != "" {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Vary", "Origin")
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{
				"email": r.Header.Get("Cf-Access-Authenticated-User-Email"),
				"host":  r.Header.Get("X-Forwarded-Host"),
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserMultiDomainFetch signs in once on domain A in real Chromium;
// the redirect chain sets the cookie on B and C, so the page on A fetches
// C's API with credentials at once and shows the user's email.
func TestBrowserMultiDomainFetch(t *testing.T) {
	var apiURL string
	origin := spaOrigin(t, &apiURL)
	env := startEnv(t, strings.ReplaceAll(multiDomainBrowserConfig, "{{ORIGIN}}", origin.URL), "")
	apiURL = siteURL(env, "c", "/api")
	ctx := newBrowserWith(t, browserOpts{hosts: []string{"*.localhost", "*.example.com"}})

	step(t, ctx, "open the page on A", chromedp.Navigate(siteURL(env, "a", "/page")), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	browserSignInWithPIN(t, ctx, env.mail, "carol@example.com", `#result`, "")
	if loc := location(t, ctx); loc != siteURL(env, "a", "/page") {
		t.Errorf("landed on %s, want A's page", loc)
	}
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = text(t, ctx, "#result")
		if !strings.Contains(got, "loading") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	screenshot(t, ctx, "multidomain.png")
	want := fmt.Sprintf(`status 200: {"email":"carol@example.com","host":"c.example.com:%d"}`, env.port)
	if strings.TrimSpace(got) != want {
		t.Errorf("page on A shows %q, want %q", got, want)
	}
}
