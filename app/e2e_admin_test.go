package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminRevokeUser: an admin signs in in real Chromium and revokes
// alice from /admin/users (revoke, then confirm); alice's very next request
// to every app is refused (navigation: 302 to sign-in, XHR: 401), and she
// can sign in again at once. Screenshots of every admin page are kept.
func TestBrowserAdminRevokeUser(t *testing.T) {
	env := startEnv(t, e2eConfig, "")

	// alice signs in to both apps with a cookie-jar client.
	alice := newClient(t, false)
	resp := env.signInWithPIN(t, alice, env.url("app", "/"), "alice@example.com")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(env.url("app", ""), "http://") {
		t.Fatalf("alice on demo: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, err := alice.Get(env.url("other", "/"))
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("alice on other: %d at %s", resp.StatusCode, resp.Request.URL)
	}

	// The admin signs in through the team domain in Chromium.
	ctx := newBrowser(t)
	step(t, ctx, "open the admin page", chromedp.Navigate(env.team+"/admin"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.team+"/cdn-cgi/access/login/auth.localhost") {
		t.Fatalf("admin sign-in started at %s", loc)
	}
	browserSignInWithPIN(t, ctx, env.mail, "admin@example.com", `.stats`, "")
	if loc := location(t, ctx); loc != env.team+"/admin" {
		t.Errorf("admin landed on %s", loc)
	}
	screenshot(t, ctx, "admin-overview.png")

	step(t, ctx, "open apps", chromedp.Navigate(env.team+"/admin/apps"), chromedp.WaitVisible(chromedp.CSS(`table.apps`)))
	if got := text(t, ctx, "table.apps"); !strings.Contains(got, "app.localhost") || !strings.Contains(got, "other") {
		t.Errorf("apps page: %q", got)
	}
	screenshot(t, ctx, "admin-apps.png")
	step(t, ctx, "open audit", chromedp.Navigate(env.team+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS(`form.filters`)))
	if got := text(t, ctx, "table"); !strings.Contains(got, "alice@example.com") {
		t.Errorf("audit page lacks alice's sign-in: %q", got)
	}
	screenshot(t, ctx, "admin-audit.png")
	step(t, ctx, "open keys", chromedp.Navigate(env.team+"/admin/keys"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	if got := text(t, ctx, "table"); !strings.Contains(got, "current") {
		t.Errorf("keys page: %q", got)
	}
	screenshot(t, ctx, "admin-keys.png")

	step(t, ctx, "open users", chromedp.Navigate(env.team+"/admin/users?user=alice@example.com"), chromedp.WaitVisible(chromedp.CSS(`tr.sessions`)))
	screenshot(t, ctx, "admin-users.png")
	step(t, ctx, "click revoke alice",
		chromedp.Click(chromedp.CSS(`button[data-user="alice@example.com"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
	)
	if got := text(t, ctx, ".confirm h1"); !strings.Contains(got, "alice@example.com") {
		t.Errorf("confirm heading %q", got)
	}
	screenshot(t, ctx, "admin-confirm.png")
	step(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if got := text(t, ctx, ".flash"); got != "Revoked 1 session of alice@example.com" {
		t.Errorf("flash = %q", got)
	}

	// alice's very next request to every app is refused.
	noFollow := &http.Client{Jar: alice.Jar, Transport: alice.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, sub := range []string{"app", "other"} {
		req, _ := http.NewRequest(http.MethodGet, env.url(sub, "/api"), nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s XHR after revoke: %d, want 401", sub, resp.StatusCode)
		}
		resp, err = noFollow.Get(env.url(sub, "/page"))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/cdn-cgi/access/login/") {
			t.Errorf("%s navigation after revoke: %d to %q, want 302 to sign-in", sub, resp.StatusCode, loc)
		}
	}

	// Signing in again works at once.
	resp = env.signInWithPIN(t, alice, env.url("app", "/"), "alice@example.com")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("alice signs in again: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = alice.Get(env.url("other", "/"))
	if err != nil {
		t.Fatal(err)
	}
	if readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Errorf("alice on other after signing in again: %d", resp.StatusCode)
	}

	// The revocation is in the audit log with the admin's email.
	step(t, ctx, "audit of revocations", chromedp.Navigate(env.team+"/admin/audit?kind=revoked"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	if got := text(t, ctx, "table tbody"); !strings.Contains(got, "admin@example.com") || !strings.Contains(got, "alice@example.com") {
		t.Errorf("revocation audit: %q", got)
	}
}
