package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// browserOpts adjusts the headless Chromium of newBrowserWith.
type browserOpts struct {
	hosts []string // host patterns that resolve to 127.0.0.1 (none: *.localhost)
	home  string   // HOME of the browser, e.g. holding an NSS database ("": inherited)
}

// newBrowser starts Debian's headless Chromium for one test. Every
// *.localhost name resolves to 127.0.0.1 inside the browser, so nothing is
// looked up in DNS. The returned context lives as long as the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWith(t, browserOpts{})
}

// newBrowserWith is newBrowser with the host names of o.hosts resolving to
// 127.0.0.1 instead (any other name is not found) and o.home as HOME.
func newBrowserWith(t *testing.T, o browserOpts) context.Context {
	t.Helper()
	testkit.NeedPrograms(t, "chromium")
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	hosts := o.hosts
	if len(hosts) == 0 {
		hosts = []string{"*.localhost"}
	}
	var rules []string
	for _, h := range hosts {
		rules = append(rules, "MAP "+h+" 127.0.0.1")
	}
	rules = append(rules, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")),
	)
	if o.home != "" {
		opts = append(opts, chromedp.Env("HOME="+o.home))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browserSignInWithPIN fills in email on the PIN sign-in page the browser
// shows, then the PIN mailed to it, and waits until the page after sign-in
// shows sel. When pinShot is set, the PIN page is saved under that name.
func browserSignInWithPIN(t *testing.T, ctx context.Context, mail *pinMailer, email, sel, pinShot string) {
	t.Helper()
	step(t, ctx, "submit the email",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.Submit(chromedp.CSS(`input[name=email]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=code]`)),
	)
	if pinShot != "" {
		screenshot(t, ctx, pinShot)
	}
	step(t, ctx, "submit the PIN",
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), mail.last(t, email)),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	)
}

// step runs actions with a timeout derived from the browser context.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves a PNG of the page as a test artifact.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 {
		t.Fatalf("screenshot %s is only %d bytes", name, len(png))
	}
	p := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// text returns the text of the first element matching the CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// location returns the browser's current URL.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
