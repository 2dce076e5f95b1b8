package app

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestBrowserLogoutAtIdP: in real Chromium, signing out of Gatehouse with
// logout_at_idp takes the browser through oidc-provider's own sign-out
// page and back to Gatehouse's signed-out page; visiting the app again then
// shows the provider's login form instead of signing straight back in (the
// next person at a shared computer is not let in as the last one).
func TestBrowserLogoutAtIdP(t *testing.T) {
	if testing.Short() {
		t.Skip("needs chromium, node and oidc-provider")
	}
	env, op := startLogoutEnv(t, "logout_at_idp = true\nbackchannel_logout = true")
	ctx := newBrowser(t)
	app := env.url("only", "/shared?format=html")

	navigateReachable(t, ctx, app, `input[name=login]`)
	step(t, ctx, "sign in at oidc-provider",
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "x"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami-email`)),
	)
	if got := strings.TrimSpace(text(t, ctx, "#whoami-email")); got != "alice@example.com" {
		t.Fatalf("whoami shows %q", got)
	}

	step(t, ctx, "sign out of Gatehouse",
		chromedp.Navigate(env.team+access.PathLogout),
		chromedp.WaitVisible(chromedp.CSS(`button[name=logout][value=yes]`)),
	)
	if loc := location(t, ctx); !strings.HasPrefix(loc, op.Issuer+"/session/end") {
		t.Errorf("sign-out led to %s, want the provider's end_session_endpoint", loc)
	}
	screenshot(t, ctx, "logout-at-idp-confirm.png")
	step(t, ctx, "confirm at the provider",
		chromedp.Click(chromedp.CSS(`button[name=logout][value=yes]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "You are signed out")]`)),
	)
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.team+access.PathSignedOut) {
		t.Errorf("the provider sent the browser to %s, want Gatehouse's signed-out page", loc)
	}
	if body := text(t, ctx, "main"); !strings.Contains(body, "You are also signed out of Test OIDC") {
		t.Errorf("signed-out page says %q", body)
	}
	screenshot(t, ctx, "logout-at-idp-signed-out.png")
	// The signed-out page's provider variant fits and is legible like every
	// page of TestBrowserPagesFit.
	checkPage(t, ctx, "signed-out-idp")

	navigateReachable(t, ctx, app, `input[name=login]`)
	if loc := location(t, ctx); !strings.HasPrefix(loc, op.Issuer) {
		t.Errorf("visiting the app again shows %s, want the provider's login form", loc)
	}
	screenshot(t, ctx, "logout-at-idp-login-again.png")
}
