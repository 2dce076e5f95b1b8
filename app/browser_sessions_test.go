package app

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestBrowserSelfServiceSessions signs one user in from two real Chromium
// browsers (two devices), opens the sessions page from the
// launcher in the first, ends the second there, and checks that the second
// is sent to sign in at its next request and that the revocation is
// audited as the user's; then "sign out everywhere else" ends a new second
// session and keeps the current one.
func TestBrowserSelfServiceSessions(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	// Two browsers, each with its own profile and cookies: two devices.
	// (Two browser contexts of one headless browser would share its one
	// focused tab, which is the only one that renders and takes input.)
	first, second := newBrowser(t), newBrowser(t)
	dashboard := env.url("app", "/dashboard")
	for i, ctx := range []context.Context{first, second} {
		step(t, ctx, "open the app", chromedp.Navigate(dashboard), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
		browserSignInWithPIN(t, ctx, env.mail, "dana@example.com", `#whoami-email`, "")
		if i == 0 && location(t, ctx) != dashboard {
			t.Fatalf("first browser landed on %s", location(t, ctx))
		}
	}

	step(t, first, "open the sessions page from the launcher",
		chromedp.Navigate(env.team+access.PathLauncher),
		chromedp.WaitVisible(chromedp.CSS(`#your-sessions`)),
		chromedp.Click(chromedp.CSS(`#your-sessions`)),
		chromedp.WaitVisible(chromedp.CSS(`table.sessions`)),
	)
	if loc := location(t, first); loc != env.team+access.PathSessions {
		t.Fatalf("the launcher's link led to %s", loc)
	}
	rows := func() int {
		t.Helper()
		n, err := chromedp.Run(first, chromedp.Evaluate[int](`document.querySelectorAll('table.sessions tbody tr').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 2 {
		t.Fatalf("the sessions page lists %d sessions, want 2", n)
	}
	if got := text(t, first, `tr[data-current] td`); !strings.Contains(got, "Headless Chrome") || !strings.Contains(got, "this device") {
		t.Errorf("the current row says %q", got)
	}
	screenshot(t, first, "sessions.png")
	other, err := chromedp.Run(first, chromedp.Evaluate[string](`document.querySelector('tr[data-session]:not([data-current])').dataset.session`))
	if err != nil || len(other) != 16 {
		t.Fatalf("the other session's id: %q %v", other, err)
	}
	revoked := env.auditCount(t, "revoked")
	step(t, first, "end the other session",
		chromedp.Click(chromedp.CSS(`tr[data-session]:not([data-current]) button`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
	)
	if n := rows(); n != 1 {
		t.Errorf("after ending one, the page lists %d sessions, want 1", n)
	}
	screenshot(t, first, "sessions-ended.png")
	if got := env.auditCount(t, "revoked"); got != revoked+1 {
		t.Errorf("revoked audit events %d → %d, want one more", revoked, got)
	}
	if n := env.revokedByCount(t, other, "dana@example.com"); n != 1 {
		t.Errorf("revocations of the other session by its user = %d, want 1", n)
	}

	step(t, second, "the ended session's next request",
		chromedp.Navigate(dashboard),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	)
	if loc := location(t, second); !strings.HasPrefix(loc, env.team+access.PathLogin) {
		t.Fatalf("the ended session went to %s, want the sign-in page", loc)
	}

	// A new session in the second browser, then "sign out everywhere else".
	browserSignInWithPIN(t, second, env.mail, "dana@example.com", `#whoami-email`, "")
	step(t, first, "sign out everywhere else",
		chromedp.Navigate(env.team+access.PathSessions),
		chromedp.WaitVisible(chromedp.CSS(`#sign-out-others`)),
		chromedp.Click(chromedp.CSS(`#sign-out-others`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
	)
	if got := text(t, first, `#flash`); !strings.Contains(got, "everywhere else") {
		t.Errorf("flash says %q", got)
	}
	if n := rows(); n != 1 {
		t.Errorf("after signing out everywhere else, %d sessions, want 1", n)
	}
	step(t, second, "the second browser after everywhere else",
		chromedp.Navigate(dashboard),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	)
	step(t, first, "the first browser keeps its session",
		chromedp.Navigate(dashboard),
		chromedp.WaitVisible(chromedp.CSS(`#whoami-email`)),
	)
	if got := strings.TrimSpace(text(t, first, `#whoami-email`)); got != "dana@example.com" {
		t.Errorf("the first browser is %q", got)
	}
}
