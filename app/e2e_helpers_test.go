package app

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// pinMailer captures the PINs Gatehouse sends.
type pinMailer struct {
	mu   sync.Mutex
	pins map[string][]string
}

func newPinMailer() *pinMailer {
	return &pinMailer{pins: map[string][]string{}}
}

func (m *pinMailer) SendPIN(_ context.Context, to, pin string) error {
	m.mu.Lock()
	m.pins[to] = append(m.pins[to], pin)
	m.mu.Unlock()
	return nil
}

// last returns the newest PIN sent to email.
func (m *pinMailer) last(t testing.TB, email string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pins[email]
	if len(p) == 0 {
		t.Fatalf("no PIN was sent to %s", email)
	}
	return p[len(p)-1]
}

// testEnv is a Gatehouse booted on a loopback port.
type testEnv struct {
	app    *App
	port   int
	mail   *pinMailer
	team   string // http://auth.localhost:PORT
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

// syncBuffer collects Gatehouse's log output; safe for concurrent use.
type syncBuffer = testkit.SyncBuffer

// startEnv boots Gatehouse with the config produced by tmpl, in which
// {{PORT}} and {{DATA}} are replaced by the listener's port and a data dir.
func startEnv(t testing.TB, tmpl string, dataDir string) *testEnv {
	t.Helper()
	return startEnvAt(t, tmpl, dataDir, Options{}, 0)
}

// startEnvWith is startEnv with App options (such as a fake clock); a nil
// o.Mail is replaced by the env's PIN catcher.
func startEnvWith(t testing.TB, tmpl string, dataDir string, o Options) *testEnv {
	t.Helper()
	return startEnvAt(t, tmpl, dataDir, o, 0)
}

// startEnvAt is startEnvWith on a given loopback port (0: any free one), so
// that a restarted env keeps the team URL and with it the token issuer.
func startEnvAt(t testing.TB, tmpl string, dataDir string, o Options, port int) *testEnv {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	return startEnvOn(t, ln, tmpl, dataDir, o)
}

// startEnvOn is startEnvWith on the listener ln, for tests that must know
// the team URL before they write the config (to register it at an IdP).
func startEnvOn(t testing.TB, ln net.Listener, tmpl string, dataDir string, o Options) *testEnv {
	t.Helper()
	port := ln.Addr().(*net.TCPAddr).Port
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{DATA}}", filepath.ToSlash(dataDir)).Replace(tmpl)
	cfg, err := config.Parse([]byte(text), "test.toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mail := newPinMailer()
	if o.Mail == nil {
		o.Mail = mail
	}
	a, err := NewWithOptions(context.Background(), cfg, log, o)
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	env := &testEnv{app: a, port: port, mail: mail, team: fmt.Sprintf("http://auth.localhost:%d", port), cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { env.done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() { env.stop(t) })
	return env
}

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (e *testEnv) stop(t testing.TB) {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	awaitStop(t, "serve", e.done, e.app, e.logs)
}

// awaitStop waits for the cancelled what (serve or run) to report on done,
// closes a and shows its logs when the test failed.
func awaitStop(t testing.TB, what string, done <-chan error, a *App, logs *syncBuffer) {
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not stop", what)
	}
	a.Close()
	if t.Failed() {
		t.Logf("gatehouse log:\n%s", logs.String())
	}
}

// url returns http://<sub>.localhost:PORT<path>.
func (e *testEnv) url(sub, path string) string {
	return fmt.Sprintf("http://%s.localhost:%d%s", sub, e.port, path)
}

// loopbackDialer sends every connection to 127.0.0.1, whatever the name, so
// no made-up name is ever looked up in DNS.
func loopbackDialer(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// newClient returns an HTTP client with a cookie jar that reaches every
// *.localhost name on loopback. It follows redirects unless noFollow.
func newClient(t testing.TB, noFollow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{
		Jar:       jar,
		Timeout:   20 * time.Second,
		Transport: &http.Transport{DialContext: loopbackDialer, DisableKeepAlives: false},
	}
	if noFollow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// getWithHeaders sends one GET to target with the headers hdr, without
// cookies and without following a redirect.
func getWithHeaders(t testing.TB, target string, hdr map[string]string) *http.Response {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: loopbackDialer}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	formRe  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)(name|value)="([^"]*)"`)
)

// parseForm returns the action and the fields of the first form in page
// whose fields include want.
func parseForm(t testing.TB, page, want string) (string, url.Values) {
	t.Helper()
	action, vals, ok := findForm(page, want)
	if !ok {
		t.Fatalf("no form with field %q in page:\n%s", want, page)
	}
	return action, vals
}

// findForm is parseForm for a goroutine: ok is false when page has no form
// with the field want.
func findForm(page, want string) (string, url.Values, bool) {
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		vals := url.Values{}
		for _, in := range inputRe.FindAllString(m[2], -1) {
			var name, value string
			for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
				if strings.EqualFold(a[1], "name") {
					name = html.UnescapeString(a[2])
				} else {
					value = html.UnescapeString(a[2])
				}
			}
			if name != "" {
				vals.Set(name, value)
			}
		}
		if _, ok := vals[want]; ok {
			return html.UnescapeString(m[1]), vals, true
		}
	}
	return "", nil, false
}

// resolve makes action absolute against base.
func resolve(t testing.TB, base *url.URL, action string) string {
	t.Helper()
	u, err := base.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// signInWithPIN starts at target, signs in as email through the PIN pages
// and returns the final response (the origin's answer).
func (e *testEnv) signInWithPIN(t testing.TB, c *http.Client, target, email string) *http.Response {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if !strings.HasPrefix(resp.Request.URL.Path, "/cdn-cgi/access/") || resp.Request.URL.Host != fmt.Sprintf("auth.localhost:%d", e.port) {
		t.Fatalf("expected the team domain's sign-in page, got %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	action, vals := parseForm(t, page, "email")
	vals.Set("email", email)
	resp, err = c.PostForm(resolve(t, resp.Request.URL, action), vals)
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("email step: %d\n%s", resp.StatusCode, page)
	}
	action, vals = parseForm(t, page, "code")
	vals.Set("code", e.mail.last(t, email))
	resp, err = c.PostForm(resolve(t, resp.Request.URL, action), vals)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func artifactsDir(t testing.TB) string {
	dir := os.Getenv("GATEHOUSE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// e2eHeader starts the config of an end-to-end test: the team domain on
// auth.localhost, TLS off and the email PIN provider "pin". Each of top is
// one more top-level line (such as global_session); the test appends its
// own [[apps]] blocks.
func e2eHeader(top ...string) string {
	s := `
team_domain = "auth.localhost:{{PORT}}"
listen = "127.0.0.1:0"
data_dir = "{{DATA}}"
`
	for _, line := range top {
		s += line + "\n"
	}
	return s + `
[tls]
mode = "off"

[[idps]]
id = "pin"
kind = "otp"
`
}
