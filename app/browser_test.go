package app

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPINSignIn signs in with a PIN in real Chromium and reaches the
// whoami origin, keeping screenshots of the pages as artifacts.
func TestBrowserPINSignIn(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	ctx := newBrowser(t)

	step(t, ctx, "open the app", chromedp.Navigate(env.url("app", "/dashboard")), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.team+"/cdn-cgi/access/login/app.localhost") {
		t.Fatalf("sign-in started at %s", loc)
	}
	screenshot(t, ctx, "signin-email.png")
	browserSignInWithPIN(t, ctx, env.mail, "carol@example.com", `#whoami-email`, "signin-pin.png")
	if got := text(t, ctx, "#whoami-email"); strings.TrimSpace(got) != "carol@example.com" {
		t.Errorf("whoami shows %q", got)
	}
	if loc := location(t, ctx); loc != env.url("app", "/dashboard") {
		t.Errorf("landed on %s", loc)
	}
	screenshot(t, ctx, "whoami.png")
}
