package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// gatehouseProcess is a Gatehouse node run as the real binary
// (`gatehouse serve`), with its log (where the PINs go without SMTP).
type gatehouseProcess struct {
	cmd    *exec.Cmd
	port   int
	logs   *syncBuffer
	exited chan error    // the exit error once, then closed
	gone   chan struct{} // closed once it has exited
}

// startGatehouseProcess builds the gatehouse binary and serves the config
// text on a port of its own (its listen line is replaced), waiting until
// it says it is serving.
func startGatehouseProcess(t *testing.T, text string) *gatehouseProcess {
	t.Helper()
	dir := t.TempDir()
	bin := buildGatehouse(t)
	p := &gatehouseProcess{port: loopbackPort(t), logs: &syncBuffer{}, exited: make(chan error, 1), gone: make(chan struct{})}
	text = strings.Replace(text, `listen = "127.0.0.1:0"`, fmt.Sprintf(`listen = "127.0.0.1:%d"`, p.port), 1)
	cfgFile := filepath.Join(dir, "gatehouse.toml")
	if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "serve", "-config", cfgFile)
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait(); close(p.gone); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may have exited
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill() //nolint:errcheck // stuck
		}
		if t.Failed() {
			t.Logf("gatehouse process log:\n%s", p.logs.String())
		}
	})
	if ok, _ := pollUntil(30*time.Second, func() bool { return strings.Contains(p.logs.String(), "gatehouse serving") }); !ok {
		t.Fatalf("the gatehouse process did not start serving:\n%s", p.logs.String())
	}
	return p
}

// pin returns the newest PIN the process logged for email, or "".
func (p *gatehouseProcess) pin(email string) string {
	pin := ""
	for _, m := range pinRe.FindAllStringSubmatch(p.logs.String(), -1) {
		if m[1] == email {
			pin = m[2]
		}
	}
	return pin
}

// errRefused marks a sign-in step that got an HTTP answer other than the
// sign-in flow's: a node that is up never gives one.
var errRefused = errors.New("refused")

// signInThrough is signInWithPIN for a goroutine, against the process p:
// it reads the PIN from p's log and returns an error instead of failing.
// An error wrapping errRefused is an HTTP answer; any other is the
// connection's (the node died under it).
func signInThrough(hc *http.Client, p *gatehouseProcess, target, email string) error {
	post := func(base *http.Response, action string, vals map[string][]string) (*http.Response, error) {
		u, err := base.Request.URL.Parse(action)
		if err != nil {
			return nil, err
		}
		return hc.PostForm(u.String(), vals)
	}
	read := func(resp *http.Response, step string) (string, error) {
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %w: %d %.200q", step, errRefused, resp.StatusCode, b)
		}
		return string(b), nil
	}
	resp, err := hc.Get(target)
	if err != nil {
		return err
	}
	page, err := read(resp, "sign-in page")
	if err != nil {
		return err
	}
	action, vals, ok := findForm(page, "email")
	if !ok {
		return fmt.Errorf("sign-in page: %w: no email form", errRefused)
	}
	vals.Set("email", email)
	if resp, err = post(resp, action, vals); err != nil {
		return err
	}
	if page, err = read(resp, "email step"); err != nil {
		return err
	}
	if action, vals, ok = findForm(page, "code"); !ok {
		return fmt.Errorf("email step: %w: no code form", errRefused)
	}
	// The PIN may be logged after the answer; a node killed in between
	// never logs it.
	pin := ""
	dead := func() bool {
		select {
		case <-p.gone:
			return true
		default:
			return false
		}
	}
	if ok, _ := pollUntil(10*time.Second, func() bool { pin = p.pin(email); return pin != "" || dead() }); !ok || pin == "" {
		return fmt.Errorf("no PIN for %s in the process log", email)
	}
	vals.Set("code", pin)
	if resp, err = post(resp, action, vals); err != nil {
		return err
	}
	body, err := read(resp, "code step")
	if err != nil {
		return err
	}
	if body != "ok" {
		return fmt.Errorf("code step: %w: final page %.200q", errRefused, body)
	}
	return nil
}

// killBrowser is one browser signing in through the process node.
type killBrowser struct {
	email  string
	jar    http.CookieJar
	done   bool  // the sign-in returned (acknowledged or failed)
	err    error // nil: acknowledged, the final 200 from the origin received
	inKill bool  // it was in flight when the process was killed
}

// TestClusterKill: two in-process nodes and one node that is the gatehouse
// binary share a PostgreSQL database. Browsers sign in with a PIN through
// the process node only, several at a time, each from its own loopback
// address (the PIN sends are limited per client address); once some have
// been acknowledged the process is killed with SIGKILL while others are in
// flight. Then no acknowledged sign-in is lost: each one's browser is
// served through node 1 and its session is in the store; no sign-in that
// was not acknowledged left a session that serves without being stored,
// the surviving nodes answer no request with a 5xx, and revokes through
// node 1 return without the dead node and hold on node 2.
func TestClusterKill(t *testing.T) {
	const (
		concurrent = 6   // browsers signing in at once
		killAfter  = 8   // acknowledged sign-ins before the kill
		most       = 200 // browsers at most (each its own 127.0.1.x address)
	)
	dsn := testkit.PostgresDSN(t)
	c, rec, cfgPath, tmpl := startLoadClusterOn(t, dsn, 2)
	apiToken, _ := createAPITokenCLI(t, cfgPath, "ops", "revoke")

	// The process node: the same config on the same database, in the
	// balancer's URLs, named node-3 in the registry.
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(c.port), "{{DSN}}", dsn,
		"{{DATA}}", filepath.ToSlash(t.TempDir())).Replace(tmpl) + "node_name = \"node-3\"\n"
	proc := startGatehouseProcess(t, text)
	live := func() []string {
		ns, err := c.nodes[0].app.Store().Nodes(context.Background(), time.Now().Add(-fastCluster.LiveWindow()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range ns {
			names = append(names, n.Name)
		}
		slices.Sort(names)
		return names
	}
	// The process heartbeats every second and node 1 counts a node live
	// for fastCluster.LiveWindow(): it is seen live between heartbeats.
	if ok, _ := pollUntil(10*time.Second, func() bool { return slices.Equal(live(), []string{"node-1", "node-2", "node-3"}) }); !ok {
		t.Fatalf("live nodes before the kill: %v, want node-1 … node-3", live())
	}

	via := func(port int, ip string) *http.Transport {
		d := net.Dialer{}
		if ip != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
		}
		return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		}}
	}

	// The browsers: concurrent goroutines each take the next browser until
	// the process is killed.
	var (
		mu       sync.Mutex
		browsers []*killBrowser
		next     atomic.Int64
		killed   atomic.Bool
		acked    atomic.Int64
		wg       sync.WaitGroup
	)
	for range concurrent {
		wg.Go(func() {
			for !killed.Load() {
				i := int(next.Add(1))
				if i > most {
					return
				}
				jar, err := cookiejar.New(nil)
				if err != nil {
					panic(err)
				}
				b := &killBrowser{email: fmt.Sprintf("signin-%03d@example.com", i), jar: jar}
				mu.Lock()
				if killed.Load() { // set under mu: b would not be marked in flight
					mu.Unlock()
					return
				}
				browsers = append(browsers, b)
				mu.Unlock()
				hc := &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: via(proc.port, fmt.Sprintf("127.0.1.%d", i))}
				err = signInThrough(hc, proc, c.url("app", "/"), b.email)
				mu.Lock()
				b.done, b.err = true, err
				mu.Unlock()
				if err == nil {
					acked.Add(1)
				}
			}
		})
	}
	if ok, _ := pollUntil(60*time.Second, func() bool { return acked.Load() >= killAfter }); !ok {
		killed.Store(true)
		wg.Wait()
		t.Fatalf("only %d sign-ins were acknowledged through the process node in a minute", acked.Load())
	}
	mu.Lock()
	killed.Store(true)
	if err := proc.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, b := range browsers {
		b.inKill = !b.done
	}
	mu.Unlock()
	killedAt := time.Now()
	wg.Wait()
	t.Logf("the browsers in flight stopped %v after the kill", time.Since(killedAt).Round(time.Millisecond))

	// The process died of the SIGKILL, not of anything else before it.
	select {
	case err := <-proc.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the process exited with %v, want killed by SIGKILL", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the killed process did not exit")
	}

	var ackedB, inFlight, failed []*killBrowser
	for _, b := range browsers {
		switch {
		case b.err == nil:
			ackedB = append(ackedB, b)
		case errors.Is(b.err, errRefused):
			t.Errorf("%s: the process node refused the sign-in: %v", b.email, b.err)
		default:
			failed = append(failed, b)
		}
		if b.inKill {
			inFlight = append(inFlight, b)
		}
	}
	t.Logf("%d sign-ins through the process node: %d acknowledged, %d in flight at the kill, %d failed (connection lost)",
		len(browsers), len(ackedB), len(inFlight), len(failed))
	if len(inFlight) == 0 {
		t.Fatal("no sign-in was in flight at the kill")
	}
	for _, b := range failed {
		if !b.inKill {
			t.Errorf("%s failed although it was not in flight at the kill: %v", b.email, b.err)
		}
	}

	// The store holds at most one active session per browser, at least
	// (so exactly) one for each acknowledged one, and none for anyone else.
	ctx := context.Background()
	sessions, err := c.nodes[0].app.Store().ListSessions(ctx, true, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, s := range sessions {
		stored[s.Identity.Email]++
	}
	ours := map[string]bool{}
	for _, b := range browsers {
		ours[b.email] = true
		if stored[b.email] > 1 {
			t.Errorf("%s has %d active sessions in the store, want at most 1", b.email, stored[b.email])
		}
	}
	for email := range stored {
		if !ours[email] {
			t.Errorf("a session of %s, who never signed in, is in the store", email)
		}
	}
	for _, b := range ackedB {
		if stored[b.email] != 1 {
			t.Errorf("acknowledged sign-in of %s: %d active sessions in the store, want 1", b.email, stored[b.email])
		}
	}
	t.Logf("%d active sessions in the store: %d of acknowledged sign-ins, %d of sign-ins cut off after the session was written",
		len(sessions), len(ackedB), len(sessions)-len(ackedB))

	// Every browser comes back through node 1 (following redirects): the
	// acknowledged ones reach the origin; any other either reaches it too
	// (its sign-in was written, only the answer was lost) with its session
	// stored, or is sent to sign in. No answer is a 5xx.
	hits := func(email string) int { n, _, _ := rec.split(email, time.Now().Add(time.Hour)); return n }
	node1 := func(b *killBrowser) (*http.Response, string, error) {
		resp, err := (&http.Client{Jar: b.jar, Timeout: 20 * time.Second, Transport: via(c.ports[0], "")}).Get(c.url("app", "/after-kill"))
		if err != nil {
			return nil, "", err
		}
		return resp, readBody(t, resp), nil
	}
	servedUnacked := 0
	for _, b := range browsers {
		before := hits(b.email)
		resp, body, err := node1(b)
		switch {
		case err != nil:
			t.Errorf("%s through node 1: %v", b.email, err)
		case resp.StatusCode >= 500:
			t.Errorf("%s through node 1: %d %.200q", b.email, resp.StatusCode, body)
		case b.err == nil && (resp.StatusCode != http.StatusOK || body != "ok" || hits(b.email) != before+1):
			t.Errorf("acknowledged sign-in of %s lost: node 1 answered %d %.200q, origin hits %d → %d",
				b.email, resp.StatusCode, body, before, hits(b.email))
		case b.err != nil && resp.StatusCode == http.StatusOK && body == "ok":
			servedUnacked++
			if stored[b.email] != 1 {
				t.Errorf("unacknowledged sign-in of %s is served through node 1 without a stored session", b.email)
			}
		case b.err != nil && !strings.HasPrefix(resp.Request.URL.Path, "/cdn-cgi/access/"):
			t.Errorf("unacknowledged sign-in of %s through node 1: %d at %s, want the origin or the sign-in page", b.email, resp.StatusCode, resp.Request.URL)
		case b.err != nil && hits(b.email) != before:
			t.Errorf("unacknowledged sign-in of %s was sent to sign in, yet reached the origin", b.email)
		}
	}
	t.Logf("sign-ins not acknowledged but served through node 1 (the team cookie arrived, the answer after it not): %d", servedUnacked)
	if len(ackedB) < 3 {
		t.Fatalf("%d acknowledged sign-ins, the revokes below need 3", len(ackedB))
	}

	// Revokes through node 1's API without the dead node: one at once
	// after the kill, while node 1 may still count node-3 as live (the
	// revoke then waits until it is not and names it as not
	// acknowledged), one once node-3 is no longer live but still in the
	// registry (a SIGKILL leaves its row; the revoke does not wait for
	// it). Either returns within the ack timeout, and the revoked browser
	// is refused through node 2 the moment it has returned.
	api := &http.Client{Transport: via(c.ports[0], ""), Timeout: 20 * time.Second}
	node2 := func(b *killBrowser) (*http.Response, string) {
		hc := &http.Client{Jar: b.jar, Timeout: 20 * time.Second, Transport: via(c.ports[1], ""),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(c.url("app", "/after-revoke"))
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	bystander := ackedB[2]
	for i, tc := range []struct {
		name       string
		awaitStale bool     // wait until node 1 no longer counts node-3 as live
		unacked    []string // allowed unacknowledged_nodes: none, or node-3
	}{
		{name: "right after the kill", unacked: []string{"node-3"}},
		{name: "once node-3 is no longer live", awaitStale: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			victim := ackedB[i]
			if tc.awaitStale {
				if ok, took := pollUntil(10*time.Second, func() bool { return !slices.Contains(live(), "node-3") }); !ok {
					t.Fatalf("node-3 is still live %v after the kill", time.Since(killedAt))
				} else {
					t.Logf("node 1 stopped counting node-3 as live %v after the kill (polled %v)", time.Since(killedAt).Round(time.Millisecond), took.Round(time.Millisecond))
				}
				all, err := c.nodes[0].app.Store().Nodes(ctx, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(all, func(n access.Node) bool { return n.Name == "node-3" }) {
					t.Fatal("node-3 left the registry: a killed node cannot remove its row")
				}
			}
			start := time.Now()
			r := c.nodes[0].callAPIWith(t, api, "POST", "users/revoke", apiToken, map[string]string{"email": victim.email})
			took := time.Since(start)
			if r.Status != http.StatusOK {
				t.Fatalf("revoke of %s: %d %s", victim.email, r.Status, r.Raw)
			}
			var unacked []string
			if ns, ok := r.Body["unacknowledged_nodes"].([]any); ok {
				for _, n := range ns {
					unacked = append(unacked, fmt.Sprint(n))
				}
			}
			if r.Body["acknowledged"] != (len(unacked) == 0) || (len(unacked) > 0 && !slices.Equal(unacked, tc.unacked)) {
				t.Fatalf("revoke answer %s: want acknowledged, or not acknowledged by %v only", r.Raw, tc.unacked)
			}
			t.Logf("revoke of %s took %v, acknowledged %v, not by %v", victim.email, took.Round(time.Millisecond), r.Body["acknowledged"], unacked)
			if took > fastCluster.AckTimeout+time.Second {
				t.Errorf("the revoke took %v, the bound is %v", took, fastCluster.AckTimeout)
			}
			before := hits(victim.email)
			if resp, body := node2(victim); resp.StatusCode == http.StatusOK || resp.StatusCode >= 500 || hits(victim.email) != before {
				t.Errorf("revoked %s through node 2: %d %.200q, origin hits %d → %d, want refused", victim.email, resp.StatusCode, body, before, hits(victim.email))
			}
			if resp, body := node2(bystander); resp.StatusCode != http.StatusOK || body != "ok" {
				t.Errorf("%s through node 2 after the revoke: %d %.200q, want served", bystander.email, resp.StatusCode, body)
			}
		})
	}
}
