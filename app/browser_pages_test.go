package app

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/access"
)

// browserPagesConfig has apps with long host names, one the admin may not
// reach, and a second provider (an OpenID provider that is not running), so
// that the team domain shows its provider picker.
var browserPagesConfig = e2eHeader(`admins = ["admin@example.com"]`) + `
[[idps]]
id = "corp"
kind = "oidc"
name = "Corporate single sign-on"
issuer = "http://127.0.0.1:1"
client_id = "gatehouse"
client_secret = "not-a-secret"

[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
idps = ["pin"]
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
  exclude = [{ emails = ["mallory@example.com"] }]

[[apps]]
name = "Customer analytics dashboard"
domains = ["customer-analytics-dashboard.eu-west-1.internal-tools.localhost:{{PORT}}", "analytics-reporting-replica.eu-west-1.internal-tools.localhost:{{PORT}}"]
origin = "whoami"
idps = ["pin"]
  [[apps.policies]]
  name = "analysts"
  decision = "allow"
  include = [{ everyone = true }]
  require = [{ email_domains = ["example.com", "engineering.subsidiary-holdings.example.com"] }]
  [[apps.policies]]
  name = "contractors"
  decision = "block"
  include = [{ emails = ["mallory@example.com"] }]

[[apps]]
name = "Payroll and finance administration"
domains = ["payroll-and-finance-administration.back-office.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "finance"
  decision = "allow"
  include = [{ emails = ["cfo@example.com"] }]

[[apps]]
name = "grafana"
domains = ["grafana.observability.localhost:{{PORT}}"]
origin = "whoami"
path = "/d"
  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]
`

// pageCheck is what the in-page check reports for one width.
type pageCheck struct {
	Width      int            `json:"width"`
	DocWidth   int            `json:"docWidth"`
	Overflow   []string       `json:"overflow"` // elements reaching past the viewport
	LowContast []lowContrast  `json:"low"`
	Checked    int            `json:"checked"` // text elements checked
	Broken     []string       `json:"broken"`  // short labels broken across lines
	Samples    map[string]any `json:"samples"`
}

// lowContrast is one text element below 4.5:1.
type lowContrast struct {
	Element string  `json:"el"`
	Ratio   float64 `json:"ratio"`
	FG      string  `json:"fg"`
	BG      string  `json:"bg"`
}

// pageCheckJS measures the page in the browser: the document's width
// against the viewport, the WCAG 2 contrast ratio of every visible text
// element (its computed color, composited over the first opaque
// background-color of it or its ancestors, white at the root), and the
// short labels (badges, buttons, IDs in tables) broken across lines.
const pageCheckJS = `(() => {
  const parse = s => {
    const m = /rgba?\(([^)]*)\)/.exec(s || "");
    if (!m) return {r: 0, g: 0, b: 0, a: 0};
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => {
    const a = top.a + bottom.a * (1 - top.a);
    if (a === 0) return {r: 0, g: 0, b: 0, a: 0};
    const mix = k => (top[k] * top.a + bottom[k] * bottom.a * (1 - top.a)) / a;
    return {r: mix("r"), g: mix("g"), b: mix("b"), a: a};
  };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = c => {
    const ch = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const css = c => "rgb(" + [c.r, c.g, c.b].map(Math.round).join(",") + ")";
  const name = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList.length) s += "." + [...el.classList].join(".");
    const t = (el.innerText || el.value || "").trim().replace(/\s+/g, " ");
    return s + (t ? ' "' + t.slice(0, 40) + '"' : "");
  };
  const visible = el => {
    if (!el.getClientRects().length) return false;
    const st = getComputedStyle(el);
    return st.visibility !== "hidden" && st.display !== "none" && parseFloat(st.opacity) > 0;
  };
  const low = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName)) continue;
    const field = ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(el.tagName) && el.type !== "hidden";
    const hasText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
    if (!(field || hasText) || !visible(el)) continue;
    checked++;
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const r = ratio(fg, bg);
    if (r < 4.5) low.push({el: name(el), ratio: Math.round(r * 100) / 100, fg: css(fg), bg: css(bg)});
  }
  const vw = window.innerWidth;
  const overflow = [];
  if (document.documentElement.scrollWidth > vw) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 0.5 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > vw + 0.5 && el.parentElement !== document.body)) {
        overflow.push(name(el) + " right=" + Math.round(r.right));
      }
    }
  }
  const lines = el => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size;
  };
  const broken = [...document.body.querySelectorAll(".badge, button, a.button, td code")].filter(el => {
    const t = el.textContent.trim();
    return visible(el) && t.length <= 24 && !(el.tagName === "CODE" && /[\s-]/.test(t)) && lines(el) > 1;
  }).map(name);
  return {width: vw, docWidth: document.documentElement.scrollWidth, overflow: overflow.slice(0, 8), low: low, checked: checked, broken: broken};
})()`

// splitNamesJS lists the whoami header names that wrap onto more than one
// line ("no header names" when the page lists none).
const splitNamesJS = `(() => {
  const names = [...document.querySelectorAll("dl.kv dt code")];
  if (!names.length) return ["no header names"];
  return names.filter(e => e.getClientRects().length > 1).map(e => e.textContent);
})()`

// pageWidths are the viewport widths every page is checked at.
var pageWidths = []int64{1280, 390}

// checkPage checks the page the browser shows, named name, at every width
// of pageWidths: no horizontal overflow of the document and every text at a
// contrast of at least 4.5:1. It keeps a screenshot per width and returns
// the document width at each.
func checkPage(t *testing.T, ctx context.Context, name string) []int {
	t.Helper()
	var widths []int
	for _, w := range pageWidths {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(sctx, chromedp.EmulateViewport(w, 900), chromedp.Sleep(100*time.Millisecond))
		var raw string
		if err == nil {
			raw, err = chromedp.Run(sctx, chromedp.Evaluate[string](`JSON.stringify(`+pageCheckJS+`)`))
		}
		cancel()
		if err != nil {
			t.Fatalf("%s at %d px: %v", name, w, err)
		}
		var c pageCheck
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatalf("%s at %d px: %v: %s", name, w, err, raw)
		}
		screenshot(t, ctx, fmt.Sprintf("pages-%s-%d.png", name, w))
		widths = append(widths, c.DocWidth)
		if c.Checked == 0 {
			t.Errorf("%s at %d px: no text element was checked", name, w)
		}
		if c.DocWidth > c.Width {
			t.Errorf("%s at %d px: the document is %d px wide (horizontal overflow): %s", name, w, c.DocWidth, strings.Join(c.Overflow, "; "))
		}
		for _, b := range c.Broken {
			t.Errorf("%s at %d px: %s is broken across lines", name, w, b)
		}
		for _, l := range c.LowContast {
			t.Errorf("%s at %d px: %s has contrast %.2f:1 (%s on %s), below 4.5:1", name, w, l.Element, l.Ratio, l.FG, l.BG)
		}
	}
	return widths
}

// TestBrowserPagesFit visits every page Gatehouse renders (sign-in, PIN,
// wrong PIN, error, denied and deactivated pages, launcher, whoami, the
// user's sessions, the signed-out pages, every admin page)
// with realistic data, in Chromium at 1280 and at 390 px, and fails on a
// document wider than the viewport or on text below a contrast of 4.5:1.
// The screenshots are kept as artifacts.
func TestBrowserPagesFit(t *testing.T) {
	env := startEnv(t, browserPagesConfig, "")
	analytics := env.url("customer-analytics-dashboard.eu-west-1.internal-tools", "/")

	// Users with long addresses sign in; mallory is refused; one code is
	// mistyped: the audit log, users and sessions pages have rows.
	for _, email := range []string{
		"maximilian.schreiber-oppenheimer@engineering.subsidiary-holdings.example.com",
		"alice@example.com",
		"bob.d@example.com",
	} {
		c := newClient(t, false)
		if resp := env.signInWithPIN(t, c, analytics, email); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s signs in: %d", email, resp.StatusCode)
		} else {
			readBody(t, resp)
		}
	}
	mallory := newClient(t, false)
	if resp := env.signInWithPIN(t, mallory, env.url("app", "/"), "mallory@example.com"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("mallory: %d, want 403", resp.StatusCode)
	} else {
		readBody(t, resp)
	}

	ctx := newBrowser(t)
	widths := map[string][]int{}
	visit := func(name, url, sel string) {
		t.Helper()
		step(t, ctx, "open "+name, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel)))
		widths[name] = checkPage(t, ctx, name)
	}
	at := func(name string) { t.Helper(); widths[name] = checkPage(t, ctx, name) }
	pv := pageVisits{visit: visit, at: at}

	// Signed out: the team domain, its provider picker, and a provider that
	// cannot be reached.
	visit("launcher-signed-out", env.team+"/", `a.button`)
	step(t, ctx, "sign in", chromedp.Click(chromedp.CSS(`a.button`)), chromedp.WaitVisible(chromedp.CSS(`.providers`)))
	at("login-pick")
	step(t, ctx, "choose the unreachable provider",
		chromedp.Click(chromedp.CSS(`.providers a[href*="start/corp"]`)), chromedp.WaitVisible(chromedp.CSS(`p.lead`)))
	if got := text(t, ctx, "h1"); got != "Sign-in unavailable" {
		t.Errorf("unreachable provider page: %q", got)
	}
	at("error-unavailable")

	// The PIN sign-in to an app, with one wrong code.
	visit("login-email", env.url("app", "/dashboard"), `input[name=email]`)
	step(t, ctx, "submit the email",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "admin@example.com"),
		chromedp.Submit(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=code]`)),
	)
	at("login-pin")
	pin := env.mail.last(t, "admin@example.com")
	wrong := "000000"
	if pin == wrong {
		wrong = "111111"
	}
	step(t, ctx, "submit a wrong PIN",
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), wrong),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.alert`)),
	)
	if got := text(t, ctx, "p.alert"); !strings.Contains(got, "4 tries left") {
		t.Errorf("wrong PIN page says %q, want the tries left", got)
	}
	at("login-pin-wrong")
	step(t, ctx, "submit the PIN",
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), pin),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami-email`)),
	)
	at("whoami")
	// Header names stay whole at desktop width: each is one line box.
	split, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](splitNamesJS))
	if err != nil || len(split) > 0 {
		t.Errorf("whoami header names broken across lines at 390 px: %v %v", split, err)
	}
	step(t, ctx, "desktop width", chromedp.EmulateViewport(1280, 900))
	split, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](splitNamesJS))
	if err != nil || len(split) > 0 {
		t.Errorf("whoami header names broken across lines at 1280 px: %v %v", split, err)
	}

	visit("launcher", env.team+"/", `nav.tiles`)

	// Every admin page.
	visit("admin-overview", env.team+"/admin", `.stats`)
	if got := strings.Join(strings.Fields(text(t, ctx, ".stats")), " "); !strings.Contains(got, " 4 applications ") || !strings.Contains(got, " 1 denial this month ") {
		t.Errorf("overview labels: %q", got)
	}
	visit("admin-apps", env.team+"/admin/apps", `table.apps`)
	visit("admin-users", env.team+"/admin/users", `table`)
	visit("admin-user-sessions", env.team+"/admin/users?user=maximilian.schreiber-oppenheimer@engineering.subsidiary-holdings.example.com", `tr.sessions`)
	step(t, ctx, "revoke a user",
		chromedp.Click(chromedp.CSS(`button[data-user="bob.d@example.com"]`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	at("admin-confirm")
	step(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	at("admin-users-flash")
	for _, name := range []string{"deploy-bot", "nightly-database-backup-to-offsite-object-storage"} {
		step(t, ctx, "create service token "+name,
			chromedp.Navigate(env.team+"/admin/service-tokens"),
			chromedp.WaitVisible(chromedp.CSS(`form.create-token`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=name]`), name),
			chromedp.Click(chromedp.CSS(`#create-token`)),
			chromedp.WaitVisible(chromedp.CSS(`#client-secret`)),
		)
	}
	at("admin-token-created")
	visit("admin-tokens", env.team+"/admin/service-tokens", `table.tokens`)
	checkAPITokenPages(t, ctx, env, pv)
	deactivateSCIMUser(t, env, pagesDeactivated)
	visit("admin-audit", env.team+"/admin/audit", `form.filters`)
	visit("admin-audit-filtered", env.team+"/admin/audit?kind=sign-in&email=alice@example.com", `form.filters`)
	visit("admin-keys", env.team+"/admin/keys", `table`)
	checkSessionPages(t, ctx, env, pv, "admin@example.com")

	// Error pages: refused by policy, an unknown sign-in response, an
	// unknown application.
	visit("denied", env.url("payroll-and-finance-administration.back-office", "/"), `p.lead`)
	if got := text(t, ctx, "h1"); got != "Access denied" {
		t.Errorf("denied page: %q", got)
	}
	visit("error-expired", env.team+"/cdn-cgi/access/callback?state=unknown", `p.lead`)
	visit("error-not-found", env.team+"/cdn-cgi/access/login/nowhere.localhost", `p.lead`)

	// Signing out on an app: "Sign in again" returns to that app.
	visit("signed-out", env.url("app", "/cdn-cgi/access/logout"), `a.button`)
	step(t, ctx, "sign in again", chromedp.Click(chromedp.CSS(`a.button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.team+"/cdn-cgi/access/login/app.localhost") {
		t.Errorf("sign in again after signing out of the app went to %s", loc)
	}
	visit("signed-out-team", env.team+access.PathSignedOut, `a.button`)

	// A user deactivated over SCIM is refused at the PIN sign-in.
	visit("login-email-again", env.url("app", "/"), `input[name=email]`)
	browserSignInWithPIN(t, ctx, env.mail, pagesDeactivated, `p.detail`, "")
	if got := text(t, ctx, "h1"); got != "Account deactivated" {
		t.Errorf("deactivated user's sign-in: %q", got)
	}
	at("error-deactivated")

	names := slices.Sorted(maps.Keys(widths))
	for _, name := range names {
		t.Logf("%-30s document width %d px at 1280, %d px at 390", name, widths[name][0], widths[name][1])
	}
	t.Logf("%d pages checked", len(names))
	for file, pages := range pagesTemplates {
		for _, p := range pages {
			if _, ok := widths[p]; !ok && !strings.Contains(p, " ") {
				t.Errorf("pagesTemplates names page %s for %s, which the test did not check", p, file)
			}
		}
	}
}
