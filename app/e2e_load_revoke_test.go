package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadConfig protects a recording origin ({{ORIGIN}}) on app.localhost.
var loadConfig = e2eHeader(`global_session = "24h"`, `admins = ["admin@example.com"]`) + `
[[apps]]
name = "load"
domains = ["app.localhost:{{PORT}}"]
origin = "{{ORIGIN}}"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// arrivals is an origin that records when each request of each user (by
// the Cf-Access-Authenticated-User-Email Gatehouse sends) reached it.
type arrivals struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	email := r.Header.Get("Cf-Access-Authenticated-User-Email")
	a.mu.Lock()
	a.at[email] = append(a.at[email], now)
	a.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // keep requests in flight at the origin
	w.Write([]byte("ok"))
}

// split counts email's arrivals before and after t.
func (a *arrivals) split(email string, t time.Time) (before, after int, last time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, at := range a.at[email] {
		if at.After(t) {
			after++
			last = at
		} else {
			before++
		}
	}
	return before, after, last
}

// hammer sends GETs to target with the app cookie of c from workers
// goroutines, each with its own connection pool, until stop is closed,
// and returns the number of answers by status.
func hammer(t *testing.T, c *http.Client, target string, workers int, stop <-chan struct{}) func() map[int]int {
	t.Helper()
	return hammerVia(t, c, target, workers, stop, loopbackDialer)
}

// hammerVia is hammer with the connections made by dial.
func hammerVia(t *testing.T, c *http.Client, target string, workers int, stop <-chan struct{},
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) func() map[int]int {
	t.Helper()
	u, _ := url.Parse(target)
	var cookies []string
	for _, ck := range c.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	cookie := strings.Join(cookies, "; ")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
		errs   atomic.Int64
	)
	for range workers {
		wg.Go(func() {
			hc := &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			defer hc.CloseIdleConnections()
			local := map[int]int{}
			for {
				select {
				case <-stop:
					mu.Lock()
					for k, v := range local {
						counts[k] += v
					}
					mu.Unlock()
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Cookie", cookie)
				req.Header.Set("X-Requested-With", "XMLHttpRequest")
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1) // a transport error (a cancelled request is answered 401)
					continue
				}
				resp.Body.Close()
				local[resp.StatusCode]++
			}
		})
	}
	return func() map[int]int {
		wg.Wait()
		counts[-1] = int(errs.Load())
		return counts
	}
}

// TestLoadRevokeFromEveryPath: 8 clients hammer the app with one user's
// cookie, and that user is revoked through the admin page (a real POST
// with its CSRF token), `gatehouse revoke` (acknowledged by the serve
// through its socket) and the API. Not one request of the user reaches the
// origin after the revocation call returned.
func TestLoadRevokeFromEveryPath(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: run without -short")
	}
	rec := &arrivals{at: map[string][]time.Time{}}
	origin := httptest.NewServer(rec)
	defer origin.Close()
	tmpl := strings.ReplaceAll(loadConfig, "{{ORIGIN}}", origin.URL)
	dataDir := t.TempDir()
	env := startEnv(t, tmpl, dataDir)
	cfgPath := writeConfigFile(t, tmpl, env, dataDir)
	apiToken, _ := createAPITokenCLI(t, cfgPath, "load", "revoke")

	admin := newClient(t, false)
	resp := env.signInWithPIN(t, admin, env.team+"/admin/users", "admin@example.com")
	if readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin sign-in: %d", resp.StatusCode)
	}

	const (
		workers = 8
		warmUp  = 400 * time.Millisecond
		coolOff = 400 * time.Millisecond
	)
	paths := []struct {
		name, email string
		revoke      func(email string) // returns once the revocation call has returned
	}{
		{"admin page", "load-admin@example.com", func(email string) {
			resp, err := admin.Get(env.team + "/admin/users")
			if err != nil {
				t.Fatal(err)
			}
			page := readBody(t, resp)
			var form string
			for _, m := range formRe.FindAllStringSubmatch(page, -1) {
				if strings.Contains(m[0], `name="email" value="`+email+`"`) {
					form = m[0]
				}
			}
			status, confirm := adminPost(t, env, admin, form, "email", nil)
			if status != http.StatusOK {
				t.Fatalf("revoke form: %d", status)
			}
			action, vals := parseForm(t, confirm, "confirm")
			resp, err = noFollow(t, admin).PostForm(env.team+action, vals)
			if err != nil {
				t.Fatal(err)
			}
			if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirmed revoke: %d, want 303", resp.StatusCode)
			}
		}},
		{"command line", "load-cli@example.com", func(email string) {
			if out := runCLI(t, "revoke", "-config", cfgPath, "--user", email); !strings.Contains(out, "applied by the running serve") {
				t.Fatalf("revoke output: %q", out)
			}
		}},
		{"API", "load-api@example.com", func(email string) {
			if r := env.callAPI(t, "POST", "users/revoke", apiToken, map[string]string{"email": email}); r.Status != http.StatusOK {
				t.Fatalf("API revoke: %d %s", r.Status, r.Raw)
			}
		}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			c := newClient(t, false)
			resp := env.signInWithPIN(t, c, env.url("app", "/"), p.email)
			if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != "ok" {
				t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
			}
			stop := make(chan struct{})
			wait := hammer(t, c, env.url("app", "/load"), workers, stop)
			time.Sleep(warmUp)
			start := time.Now()
			p.revoke(p.email)
			returned := time.Now()
			time.Sleep(coolOff)
			close(stop)
			counts := wait()
			before, after, last := rec.split(p.email, returned)
			t.Logf("%s: %d requests reached the origin before the revoke returned (it took %v), %d after; answers by status %v (-1: transport errors)",
				p.name, before, returned.Sub(start).Round(time.Millisecond), after, counts)
			if before < workers {
				t.Errorf("only %d requests reached the origin before the revoke: the load did not run", before)
			}
			if after != 0 {
				t.Errorf("%d requests reached the origin after the revoke returned, the last %v after it", after, last.Sub(returned))
			}
			if counts[http.StatusUnauthorized] == 0 {
				t.Errorf("no request was refused after the revoke: %v", counts)
			}
		})
	}
}
