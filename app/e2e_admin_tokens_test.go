package app

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var e2eAdminTokensConfig = e2eHeader(`admins = ["admin@example.com"]`) + `
[[apps]]
name = "svc"
domains = ["svc.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "machines"
  decision = "service_auth"
  include = [{ any_service_token = true }]
`

var (
	shownIDRe     = regexp.MustCompile(`<code id="client-id">([0-9a-f]{32}\.access)</code>`)
	shownSecretRe = regexp.MustCompile(`<code id="client-secret">([0-9a-f]{64})</code>`)
)

// adminPost submits the form of page holding field want, with extra
// fields set, and returns the page answered.
func adminPost(t *testing.T, env *testEnv, c *http.Client, page, want string, set map[string]string) (int, string) {
	t.Helper()
	action, vals := parseForm(t, page, want)
	for k, v := range set {
		vals.Set(k, v)
	}
	resp, err := c.PostForm(env.team+action, vals)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(t, resp)
}

// TestAdminServiceTokenEndToEnd: an admin creates a service token on the
// admin page, a curl-like client reaches a service-auth app with the shown
// credentials, and after the admin disables it on the page the very next
// request is refused.
func TestAdminServiceTokenEndToEnd(t *testing.T) {
	env := startEnv(t, e2eAdminTokensConfig, "")
	admin := newClient(t, false)
	resp := env.signInWithPIN(t, admin, env.team+"/admin", "admin@example.com")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin" {
		t.Fatalf("admin sign-in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, err := admin.Get(env.team + "/admin/service-tokens")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "No service tokens yet.") {
		t.Fatalf("service tokens page: %d\n%s", resp.StatusCode, page)
	}

	status, created := adminPost(t, env, admin, page, "name", map[string]string{"name": "ci-bot", "duration": "1y"})
	id, secret := shownIDRe.FindStringSubmatch(created), shownSecretRe.FindStringSubmatch(created)
	if status != http.StatusOK || id == nil || secret == nil {
		t.Fatalf("create: %d\n%s", status, created)
	}
	creds := map[string]string{"CF-Access-Client-Id": id[1], "CF-Access-Client-Secret": secret[1]}

	curl := func(hdr map[string]string) *http.Response {
		t.Helper()
		return getWithHeaders(t, env.url("svc", "/?format=json"), hdr)
	}
	w := decodeWhoami(t, curl(creds))
	if w.JWTPayload["common_name"] != id[1] {
		t.Errorf("token common_name = %v, want %s", w.JWTPayload["common_name"], id[1])
	}

	// The list shows the token, never its secret.
	resp, err = admin.Get(env.team + "/admin/service-tokens")
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	if !strings.Contains(page, id[1]) || strings.Contains(page, secret[1]) {
		t.Fatalf("list after create:\n%s", page)
	}

	// Disable: the first POST asks to confirm and changes nothing.
	status, confirm := adminPost(t, env, admin, page, "id", nil)
	if status != http.StatusOK || !strings.Contains(confirm, "Disable service token ci-bot?") {
		t.Fatalf("disable: %d\n%s", status, confirm)
	}
	resp = curl(creds)
	if readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("before confirming: %d, want 200", resp.StatusCode)
	}
	status, after := adminPost(t, env, admin, confirm, "confirm", nil)
	if status != http.StatusOK || !strings.Contains(after, "Disabled service token ci-bot") || !strings.Contains(after, "disabled</span>") {
		t.Fatalf("confirm disable: %d\n%s", status, after)
	}
	resp = curl(creds)
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("next request after disable: %d, want 403", resp.StatusCode)
	}

	// The disable is in the audit log, by the admin.
	resp, err = admin.Get(env.team + "/admin/audit?kind=revoked")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, "Disabled service token ci-bot") || !strings.Contains(body, "admin@example.com") {
		t.Errorf("audit lacks the disable:\n%s", body)
	}
}

// TestBrowserAdminServiceTokens: an admin creates a service token in real
// Chromium; the secret is shown once, then the list is screenshotted.
func TestBrowserAdminServiceTokens(t *testing.T) {
	env := startEnv(t, e2eAdminTokensConfig, "")
	ctx := newBrowser(t)
	step(t, ctx, "open the admin page", chromedp.Navigate(env.team+"/admin/service-tokens"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	browserSignInWithPIN(t, ctx, env.mail, "admin@example.com", `form.create-token`, "")
	for _, name := range []string{"ci-bot", "backup-job"} {
		step(t, ctx, "create "+name,
			chromedp.Navigate(env.team+"/admin/service-tokens"),
			chromedp.WaitVisible(chromedp.CSS(`form.create-token`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=name]`), name),
			chromedp.Click(chromedp.CSS(`#create-token`)),
			chromedp.WaitVisible(chromedp.CSS(`#client-secret`)),
		)
		if got := text(t, ctx, "#client-secret"); len(got) != 64 {
			t.Errorf("secret shown = %q", got)
		}
	}
	screenshot(t, ctx, "admin-service-token-created.png")
	step(t, ctx, "open the list", chromedp.Navigate(env.team+"/admin/service-tokens"), chromedp.WaitVisible(chromedp.CSS(`table.tokens`)))
	got := text(t, ctx, "table.tokens")
	if !strings.Contains(got, "ci-bot") || !strings.Contains(got, "backup-job") || !strings.Contains(got, "active") {
		t.Errorf("tokens table: %q", got)
	}
	screenshot(t, ctx, "admin-service-tokens.png")
}
