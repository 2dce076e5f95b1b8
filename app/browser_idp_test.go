package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testidp"
)

// waitLocation polls the browser's URL until it starts with prefix.
func waitLocation(t *testing.T, ctx context.Context, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc := location(t, ctx)
		if strings.HasPrefix(loc, prefix) {
			return loc
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser is at %s, want %s...", loc, prefix)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// navigateReachable opens target in the browser until the page at sel is
// shown, reloading while Gatehouse still reports the IdP unreachable (its
// metadata or discovery is fetched on demand after the IdP started).
func navigateReachable(t *testing.T, ctx context.Context, target, sel string) {
	t.Helper()
	for i := 0; ; i++ {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := chromedp.Do(sctx, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
		if i == 10 {
			t.Fatalf("open %s: %s never appeared (at %s): %v", target, sel, location(t, ctx), err)
		}
	}
}

// TestBrowserSAMLSignIn signs in through SimpleSAMLphp's login form in
// real Chromium: the IdP's JavaScript posts the SAMLResponse to the ACS and
// the browser lands on the whoami origin.
func TestBrowserSAMLSignIn(t *testing.T) {
	ssp := testidp.StartSAML(t, 0)
	env := startEnv(t, idpConfig(samlIdP("sso", ssp.MetadataURL), "sso"), "")
	registerSP(t, env, ssp, "/cdn-cgi/access/saml-metadata")
	ctx := newBrowser(t)

	target := env.url("only", "/saml?format=html")
	navigateReachable(t, ctx, target, `input[name=username]`)
	if loc := location(t, ctx); !strings.HasPrefix(loc, "http://127.0.0.1:") {
		t.Fatalf("sign-in page is %s, want SimpleSAMLphp", loc)
	}
	screenshot(t, ctx, "saml-signin.png")
	step(t, ctx, "sign in at SimpleSAMLphp",
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "bobpass"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami-email`)),
	)
	if got := strings.TrimSpace(text(t, ctx, "#whoami-email")); got != "bob@example.com" {
		t.Errorf("whoami shows %q", got)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.url("only", "/saml")) {
		t.Errorf("landed on %s", loc)
	}
	screenshot(t, ctx, "saml-whoami.png")
}

// TestBrowserIdPChooser: an app allowing an OIDC and a SAML provider shows
// a chooser listing both; choosing OIDC leads to the provider's login form.
func TestBrowserIdPChooser(t *testing.T) {
	ln, team := listenTeam(t)
	op := testidp.StartOIDC(t, 0, []string{team + access.PathCallback})
	ssp := testidp.StartSAML(t, 0)
	cfg := `
team_domain = "auth.localhost:{{PORT}}"
listen = "127.0.0.1:0"
data_dir = "{{DATA}}"

[tls]
mode = "off"
` + oidcIdP("corp", op.Issuer, "") + samlIdP("sso", ssp.MetadataURL) + `
[[apps]]
name = "both"
domains = ["both.localhost:{{PORT}}"]
origin = "whoami"
idps = ["corp", "sso"]
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]
`
	env := startEnvOn(t, ln, cfg, "", Options{})
	ctx := newBrowser(t)

	step(t, ctx, "open the app", chromedp.Navigate(env.url("both", "/")), chromedp.WaitVisible(chromedp.CSS(`nav.providers a`)))
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.team+"/cdn-cgi/access/login/both.localhost") {
		t.Errorf("chooser at %s", loc)
	}
	list := text(t, ctx, "nav.providers")
	for _, name := range []string{"Test OIDC", "Test SAML"} {
		if !strings.Contains(list, name) {
			t.Errorf("chooser lists %q, missing %q", list, name)
		}
	}
	screenshot(t, ctx, "idp-chooser.png")

	// Discovery may still be pending: retry the click like a user would.
	for i := 0; ; i++ {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := chromedp.Do(sctx,
			chromedp.Click(chromedp.Search(`//nav[@class="providers"]/a[contains(., "Test OIDC")]`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		)
		cancel()
		if err == nil {
			break
		}
		if i == 10 {
			t.Fatalf("choosing OIDC did not reach the login form (at %s): %v", location(t, ctx), err)
		}
		step(t, ctx, "back to the chooser", chromedp.Navigate(env.url("both", "/")), chromedp.WaitVisible(chromedp.CSS(`nav.providers a`)))
	}
	waitLocation(t, ctx, op.Issuer)
}

// TestBrowserSingleIdPGoesStraight: with one allowed provider the first
// page the browser shows after visiting the app is the IdP's login page.
func TestBrowserSingleIdPGoesStraight(t *testing.T) {
	ln, team := listenTeam(t)
	op := testidp.StartOIDC(t, 0, []string{team + access.PathCallback})
	env := startEnvOn(t, ln, idpConfig(oidcIdP("corp", op.Issuer, ""), "corp"), "", Options{})
	ctx := newBrowser(t)

	navigateReachable(t, ctx, env.url("only", "/straight"), `input[name=login]`)
	loc := location(t, ctx)
	if !strings.HasPrefix(loc, op.Issuer) {
		t.Errorf("first page is %s, want the provider %s", loc, op.Issuer)
	}
}
