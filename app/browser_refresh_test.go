package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// browserRefreshConfig is an app whose tokens live two seconds, behind the default
// 24-hour global session.
var browserRefreshConfig = e2eHeader() + `
[[apps]]
name = "spa"
domains = ["app.localhost:{{PORT}}"]
origin = "{{ORIGIN}}"
session_duration = "2s"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// refreshPage runs fetch() and XMLHttpRequest against /api when asked.
const refreshPage = `<!doctype html><html><head><meta charset="utf-8"><title>SPA</title></head><body>
<h1 id="ready">Single-page app</h1>
<script>
window.callAPI = () => Promise.all([
  fetch("/api", {credentials: "include", headers: {"Accept": "application/json"}})
    .then(r => r.text().then(t => ({status: r.status, redirected: r.redirected, body: t}))),
  new Promise(resolve => {
    const x = new XMLHttpRequest();
    x.open("GET", "/api");
    x.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    x.onload = () => resolve({status: x.status, redirected: x.responseURL.indexOf("/api") < 0, body: x.responseText});
    x.onerror = () => resolve({status: -1, body: "network error"});
    x.send();
  }),
]);
</script></body></html>`

// apiHit is what the origin saw on one /api request.
type apiHit struct {
	assertion, cookie string
}

// recordingOrigin serves refreshPage and records every /api request.
type recordingOrigin struct {
	mu   sync.Mutex
	hits []apiHit
}

func (o *recordingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, refreshPage)
		return
	}
	var cookie string
	if c, err := r.Cookie(access.CookieAuthorization); err == nil {
		cookie = c.Value
	}
	o.mu.Lock()
	o.hits = append(o.hits, apiHit{assertion: r.Header.Get(access.HeaderJWTAssertion), cookie: cookie})
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"email":%q}`, r.Header.Get(access.HeaderUserEmail))
}

func (o *recordingOrigin) taken() []apiHit {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.hits
	o.hits = nil
	return out
}

type apiResult struct {
	Status     int    `json:"status"`
	Redirected bool   `json:"redirected"`
	Body       string `json:"body"`
}

// TestBrowserSilentRefreshFetchXHR: in Chromium, fetch() and XMLHttpRequest
// sent after the app token expired are refreshed inline (200, no redirect,
// the origin reached once per request with a valid token in the assertion
// header and the forwarded cookie); after the global session ends both get
// 401 with the login URL and the origin is not reached.
func TestBrowserSilentRefreshFetchXHR(t *testing.T) {
	origin := &recordingOrigin{}
	srv := httptest.NewServer(origin)
	defer srv.Close()
	clock := newFakeClock(time.Now())
	env := startEnvWith(t, strings.ReplaceAll(browserRefreshConfig, "{{ORIGIN}}", srv.URL), "", Options{Now: clock.Now})
	ctx := newBrowser(t)
	page := env.url("app", "/page")
	step(t, ctx, "open the app", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	browserSignInWithPIN(t, ctx, env.mail, "dana@example.com", `#ready`, "")

	call := func() []apiResult {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		raw, err := chromedp.Run(sctx, chromedp.Evaluate[string](`callAPI().then(JSON.stringify)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("callAPI: %v", err)
		}
		var res []apiResult
		if err := json.Unmarshal([]byte(raw), &res); err != nil || len(res) != 2 {
			t.Fatalf("callAPI = %s: %v", raw, err)
		}
		return res
	}
	// Let the 2-second token end in real time too, so that a cookie that
	// lived only as long as its token would be gone from the browser.
	time.Sleep(3 * time.Second)
	clock.Advance(3 * time.Second)
	origin.taken()
	for i, r := range call() {
		if r.Status != http.StatusOK || r.Redirected || !strings.Contains(r.Body, "dana@example.com") {
			t.Errorf("request %d after the token expired: %+v, want 200 from the origin without a redirect", i, r)
		}
	}
	hits := origin.taken()
	if len(hits) != 2 {
		t.Fatalf("origin reached %d times for 2 requests", len(hits))
	}
	keys := env.app.keys.Load()
	aud := env.app.Apps().ByName("spa").AUD
	for i, h := range hits {
		c, err := keys.Verify(h.assertion, aud, token.TypeApp, clock.Now())
		if err != nil {
			t.Errorf("hit %d: origin got an invalid assertion: %v", i, err)
			continue
		}
		if h.cookie != h.assertion {
			t.Errorf("hit %d: forwarded cookie is not the refreshed token", i)
		}
		if c.ExpiresAt <= clock.Now().Unix() {
			t.Errorf("hit %d: origin got an expired token", i)
		}
	}
	screenshot(t, ctx, "silent-refresh.png")

	// Past the global session's end: 401 with the login URL, origin untouched.
	clock.Advance(25 * time.Hour)
	for i, r := range call() {
		var body struct {
			LoginURL string `json:"login_url"`
		}
		_ = json.Unmarshal([]byte(r.Body), &body)
		if r.Status != http.StatusUnauthorized || !strings.Contains(body.LoginURL, "/cdn-cgi/access/login/app.localhost") {
			t.Errorf("request %d after the global session ended: %+v", i, r)
		}
	}
	if hits := origin.taken(); len(hits) != 0 {
		t.Errorf("origin reached %d times after the global session ended", len(hits))
	}
}
