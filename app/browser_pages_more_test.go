package app

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Realistic long values for the pages TestBrowserPagesFit checks.
const (
	// pagesLongUA is an in-app browser's User-Agent, as long as they come.
	pagesLongUA = "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 " +
		"(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 " +
		"[FB_IAB/FB4A;FBAV/445.0.0.34.118;IABMV/1;FBDM/{density=2.8125,width=1080,height=2340};]"
	// pagesLongTokenName is an API token name near the 100 characters the
	// form takes.
	pagesLongTokenName = "terraform-cloud-drift-detection-for-production-and-staging-workspaces-eu-west-1-and-us-east-2-daily"
	// pagesDeactivated is the SCIM user who is deactivated and then tries
	// to sign in.
	pagesDeactivated = "konstantin.vasilopoulos-grunewald@procurement.subsidiary-holdings.example.com"
)

// userAgentTransport sets one User-Agent on every request.
type userAgentTransport struct {
	base http.RoundTripper
	ua   string
}

func (u userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.base.RoundTrip(r)
}

// count is the number of elements sel matches in the browser's page.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// pageVisits are the two ways TestBrowserPagesFit checks a page: visit
// opens url and waits for sel; at checks the page the browser shows.
type pageVisits struct {
	visit func(name, url, sel string)
	at    func(name string)
}

// checkSessionPages signs email in a second time from another "device"
// with a long User-Agent, then checks the self-service sessions page (opened
// from the launcher) with its two rows and the page after ending the other
// session. The browser is signed in as email.
func checkSessionPages(t *testing.T, ctx context.Context, env *testEnv, v pageVisits, email string) {
	t.Helper()
	other := newClient(t, false)
	other.Transport = userAgentTransport{base: other.Transport, ua: pagesLongUA}
	if resp := env.signInWithPIN(t, other, env.url("app", "/"), email); resp.StatusCode != http.StatusOK {
		t.Fatalf("%s signs in on a second device: %d", email, resp.StatusCode)
	} else {
		readBody(t, resp)
	}
	v.visit("launcher-with-sessions", env.team+access.PathLauncher, `#your-sessions`)
	step(t, ctx, "open the sessions page",
		chromedp.Click(chromedp.CSS(`#your-sessions`)), chromedp.WaitVisible(chromedp.CSS(`table.sessions`)))
	if n := count(t, ctx, `table.sessions tbody tr`); n != 2 {
		t.Fatalf("the sessions page lists %d sessions, want 2", n)
	}
	if got := text(t, ctx, `tr[data-current] td`); !strings.Contains(got, "this device") {
		t.Errorf("the current row says %q", got)
	}
	if got := text(t, ctx, `tr[data-session]:not([data-current]) td`); !strings.Contains(got, "Chrome 120 on Android 14") {
		t.Errorf("the other device's row says %q", got)
	}
	v.at("sessions")
	step(t, ctx, "end the other session",
		chromedp.Click(chromedp.CSS(`tr[data-session]:not([data-current]) button`)), chromedp.WaitVisible(chromedp.CSS(`#flash`)))
	if n := count(t, ctx, `table.sessions tbody tr`); n != 1 {
		t.Errorf("after ending one session the page lists %d, want 1", n)
	}
	v.at("sessions-ended")
}

// checkAPITokenPages fills the API token list (a token that never expires,
// a long name, a revoked and an expired one), creates one on the page, and
// checks the "shown once" page, the list, the revoke and delete
// confirmations and the list after revoking. The browser is an admin's.
func checkAPITokenPages(t *testing.T, ctx context.Context, env *testEnv, v pageVisits) {
	t.Helper()
	st, bg := env.app.Store(), context.Background()
	now := time.Now()
	for _, tok := range []struct {
		name    string
		scopes  []string
		life    time.Duration
		created time.Time
		revoke  bool
	}{
		{"incident-bot", []string{"read", "revoke"}, 90 * 24 * time.Hour, now, false},
		{"okta-provisioning", []string{"scim"}, 0, now, false},
		{"ci-service-token-rotation-for-the-platform-team-kubernetes-clusters", []string{"read", "revoke", "service-tokens", "scim"}, 365 * 24 * time.Hour, now, true},
		{"quarterly-access-review-export", []string{"read"}, 30 * 24 * time.Hour, now.Add(-45 * 24 * time.Hour), false},
	} {
		created, _, err := st.CreateAPIToken(bg, tok.name, tok.scopes, tok.life, "maximilian.schreiber-oppenheimer@engineering.subsidiary-holdings.example.com", tok.created)
		if err != nil {
			t.Fatal(err)
		}
		if tok.revoke {
			if err := st.RevokeAPIToken(bg, created.ID, now); err != nil {
				t.Fatal(err)
			}
		}
	}

	step(t, ctx, "create an API token on the page",
		chromedp.Navigate(env.team+"/admin/api-tokens"),
		chromedp.WaitVisible(chromedp.CSS(`form.create-api-token`)),
		chromedp.SendKeys(chromedp.CSS(`form.create-api-token input[name=name]`), pagesLongTokenName),
		chromedp.Click(chromedp.CSS(`input[name=scope][value=revoke]`)),
		chromedp.Click(chromedp.CSS(`input[name=scope][value=service-tokens]`)),
		chromedp.Click(chromedp.CSS(`#create-api-token`)),
		chromedp.WaitVisible(chromedp.CSS(`#api-token-secret`)),
	)
	if got := text(t, ctx, `#api-token-secret`); !strings.HasPrefix(got, "gh_api_") {
		t.Errorf("the created page shows the secret %q", got)
	}
	v.at("admin-api-token-created")

	v.visit("admin-api-tokens", env.team+"/admin/api-tokens", `table.api-tokens`)
	if n := count(t, ctx, `table.api-tokens tbody tr`); n != 5 {
		t.Errorf("the API token list has %d rows, want 5", n)
	}
	states := text(t, ctx, `table.api-tokens tbody`)
	for _, s := range []string{"revoked", "expired", "active", "never"} {
		if !strings.Contains(states, s) {
			t.Errorf("the API token list lacks %q", s)
		}
	}
	step(t, ctx, "revoke an API token",
		chromedp.Click(chromedp.CSS(`button[data-revoke="`+pagesLongTokenName+`"]`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	v.at("admin-api-token-revoke-confirm")
	step(t, ctx, "confirm the revocation", chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if got := text(t, ctx, `.flash`); !strings.Contains(got, "Revoked API token "+pagesLongTokenName) {
		t.Errorf("flash after revoking: %q", got)
	}
	v.at("admin-api-tokens-flash")
	step(t, ctx, "delete an API token",
		chromedp.Click(chromedp.CSS(`button[data-delete="quarterly-access-review-export"]`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	v.at("admin-api-token-delete-confirm")
}

// deactivateSCIMUser provisions email over SCIM with an API token of scope
// scim and deactivates it.
func deactivateSCIMUser(t *testing.T, env *testEnv, email string) {
	t.Helper()
	api := scimAPI{t: t, env: env, token: scimToken(t, env, "scim")}
	id := scimUser(t, api, email)
	api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, "deactivate "+email, http.StatusOK)
}

// pagesTemplates maps every template of pages/templates and
// admin/templates to the pages of TestBrowserPagesFit that render it
// (layout and partials are part of every page).
var pagesTemplates = map[string][]string{
	"pages/templates/error.html":                   {"error-unavailable", "denied", "error-expired", "error-not-found", "error-deactivated"},
	"pages/templates/launcher.html":                {"launcher-signed-out", "launcher", "launcher-with-sessions"},
	"pages/templates/layout.html":                  {"every page"},
	"pages/templates/login_code.html":              {"login-pin", "login-pin-wrong"},
	"pages/templates/login_email.html":             {"login-email", "login-email-again"},
	"pages/templates/login_pick.html":              {"login-pick"},
	"pages/templates/sessions.html":                {"sessions", "sessions-ended"},
	"pages/templates/signed_out.html":              {"signed-out", "signed-out-team", "signed-out-idp (TestBrowserLogoutAtIdP)"},
	"pages/templates/whoami.html":                  {"whoami"},
	"admin/templates/admin_api_token_created.html": {"admin-api-token-created"},
	"admin/templates/admin_api_tokens.html":        {"admin-api-tokens", "admin-api-tokens-flash"},
	"admin/templates/admin_apps.html":              {"admin-apps"},
	"admin/templates/admin_audit.html":             {"admin-audit", "admin-audit-filtered"},
	"admin/templates/admin_confirm.html":           {"admin-confirm", "admin-api-token-revoke-confirm", "admin-api-token-delete-confirm"},
	"admin/templates/admin_keys.html":              {"admin-keys"},
	"admin/templates/admin_overview.html":          {"admin-overview"},
	"admin/templates/admin_partials.html":          {"every admin page"},
	"admin/templates/admin_token_created.html":     {"admin-token-created"},
	"admin/templates/admin_tokens.html":            {"admin-tokens"},
	"admin/templates/admin_users.html":             {"admin-users", "admin-user-sessions", "admin-users-flash"},
}

// TestBrowserPagesCoverEveryTemplate fails when a template is added
// without TestBrowserPagesFit visiting a page that renders it.
func TestBrowserPagesCoverEveryTemplate(t *testing.T) {
	var found []string
	for _, dir := range []string{"pages/templates", "admin/templates"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.html"))
		if err != nil || len(files) == 0 {
			t.Fatalf("templates of %s: %v %v", dir, files, err)
		}
		for _, f := range files {
			found = append(found, dir+"/"+filepath.Base(f))
		}
	}
	for _, f := range found {
		if _, ok := pagesTemplates[f]; !ok {
			t.Errorf("%s: no page of TestBrowserPagesFit renders it; visit one and list it in pagesTemplates", f)
		}
	}
	for f := range pagesTemplates {
		if !slices.Contains(found, f) {
			t.Errorf("pagesTemplates lists %s, which does not exist", f)
		}
	}
}
