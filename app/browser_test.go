package app

import (
	"strings"
	"testing"
	"time"

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
	step(t, ctx, "submit the email",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "carol@example.com"),
		chromedp.Submit(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=code]`)),
	)
	screenshot(t, ctx, "signin-pin.png")
	var pin string
	select {
	case pin = <-env.mail.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no PIN was sent")
	}
	step(t, ctx, "submit the PIN",
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), pin),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami-email`)),
	)
	if got := text(t, ctx, "#whoami-email"); strings.TrimSpace(got) != "carol@example.com" {
		t.Errorf("whoami shows %q", got)
	}
	if loc := location(t, ctx); loc != env.url("app", "/dashboard") {
		t.Errorf("landed on %s", loc)
	}
	screenshot(t, ctx, "whoami.png")
}
