package app

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// urlValues copies v.
func urlValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// auditCount counts the audit events of kind.
func (e *testEnv) auditCount(t *testing.T, kind string) int {
	t.Helper()
	var n int
	if err := e.app.Store().SQL().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit WHERE kind = ?`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pinEmailForm opens the sign-in page of the demo app and returns the email
// form's action and values.
func pinEmailForm(t *testing.T, env *testEnv, c *http.Client) (string, url.Values, *http.Response) {
	t.Helper()
	resp, err := c.Get(env.url("app", "/"))
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	action, vals := parseForm(t, page, "email")
	return resolve(t, resp.Request.URL, action), vals, resp
}

// TestPINLimits asks a real serve for PIN emails and tries codes the way an
// attacker would, and checks the limits: a few emails per address, the same
// answer for any address, and a lockout across codes that even the right
// code does not pass.
func TestPINLimits(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	c := newClient(t, false)
	send := func(email string) (*http.Response, string) {
		action, vals, _ := pinEmailForm(t, env, c)
		form := urlValues(vals)
		form.Set("email", email)
		resp, err := c.PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	t.Run("sends per address", func(t *testing.T) {
		for i := range 3 {
			if resp, _ := send("victim@example.com"); resp.StatusCode != http.StatusOK {
				t.Fatalf("send %d: status %d", i, resp.StatusCode)
			}
		}
		resp, body := send("victim@example.com")
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("fourth send: status %d", resp.StatusCode)
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s <= 0 {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if strings.Contains(body, "victim@example.com") || !strings.Contains(body, "Try again in") {
			t.Errorf("limit page names the address or says nothing useful:\n%s", body)
		}
		if got := len(env.mail.pins["victim@example.com"]); got != 3 {
			t.Errorf("%d PIN emails sent, want 3", got)
		}
	})
	t.Run("sends per client IP", func(t *testing.T) {
		// 4 asked for above (the refused one counts too); 6 more distinct
		// addresses reach the per-IP limit of 10.
		for i := range 6 {
			if resp, _ := send("user" + strconv.Itoa(i) + "@example.com"); resp.StatusCode != http.StatusOK {
				t.Fatalf("send %d: status %d", i, resp.StatusCode)
			}
		}
		if resp, _ := send("fresh@example.com"); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("eleventh send from one IP: status %d", resp.StatusCode)
		}
	})
	if got := env.auditCount(t, "rate-limited"); got < 2 {
		t.Errorf("%d rate-limited audit events, want at least 2", got)
	}
	fams := scrape(t, env.app)
	for _, limit := range []string{"pin-send", "pin-send-ip"} {
		if got, _ := metricValue(fams, "gatehouse_rate_limited_total", map[string]string{"limit": limit}); got < 1 {
			t.Errorf("gatehouse_rate_limited_total{limit=%q} = %v", limit, got)
		}
	}
}

// TestPINLockoutAcrossCodes: wrong guesses spread over several codes lock
// the address, and then the right code is refused too.
func TestPINLockoutAcrossCodes(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	c := newClient(t, false)
	const email = "target@example.com"
	wrong := 0
	var lastForm url.Values
	var lastAction string
	for code := 0; code < 3 && wrong < 10; code++ {
		action, vals, _ := pinEmailForm(t, env, c)
		form := urlValues(vals)
		form.Set("email", email)
		resp, err := c.PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		page := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("send %d: %d", code, resp.StatusCode)
		}
		a, v := parseForm(t, page, "code")
		lastAction, lastForm = resolve(t, resp.Request.URL, a), v
		for try := 0; try < 5 && wrong < 10; try++ {
			f := urlValues(lastForm)
			f.Set("code", "000000")
			if env.mail.last(t, email) == "000000" {
				f.Set("code", "111111")
			}
			resp, err := c.PostForm(lastAction, f)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			wrong++
		}
	}
	f := urlValues(lastForm)
	f.Set("code", env.mail.last(t, email))
	resp, err := c.PostForm(lastAction, f)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right code after %d wrong ones across codes: status %d\n%s", wrong, resp.StatusCode, body)
	}
	if hasAuthCookie(t, c, env.url("app", "/")) {
		t.Fatal("the locked address got an app cookie")
	}
}
