package app

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const reloadConfig = `
team_domain = "auth.localhost:{{PORT}}"
listen = "127.0.0.1:{{PORT}}"
data_dir = "{{DATA}}"

[tls]
mode = "off"

[log]
access_log = true

[metrics]
listen = "127.0.0.1:{{METRICS}}"

[[idps]]
id = "pin"
kind = "otp"

[[apps]]
name = "stream"
domains = ["app.localhost:{{PORT}}"]
origin = "http://{{ORIGIN}}"
  [[apps.policies]]
  name = "who"
  decision = "{{DECISION}}"
  include = [{ emails = ["{{EMAIL}}"] }]
`

// loopbackPort returns a loopback port that was free a moment ago.
func loopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// streamingOrigin answers /stream with 20 chunks, one every 100 ms, and
// anything else with "hello".
func streamingOrigin(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			fmt.Fprint(w, "hello")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		for i := range 20 {
			fmt.Fprintf(w, "chunk %d\n", i)
			http.NewResponseController(w).Flush() //nolint:errcheck // test origin
			time.Sleep(100 * time.Millisecond)
		}
	})}
	go srv.Serve(ln) //nolint:errcheck // closed below
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

var pinRe = regexp.MustCompile(`msg="one-time PIN" email=(\S+) pin=(\d+)`)

func TestReloadRunningProcess(t *testing.T) {
	dir := t.TempDir()
	bin := buildGatehouse(t)
	port, mport := loopbackPort(t), loopbackPort(t)
	origin := streamingOrigin(t)
	cfgFile := filepath.Join(dir, "gatehouse.toml")
	write := func(decision, email string) {
		text := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{METRICS}}", fmt.Sprint(mport),
			"{{DATA}}", filepath.ToSlash(filepath.Join(dir, "data")), "{{ORIGIN}}", origin,
			"{{DECISION}}", decision, "{{EMAIL}}", email).Replace(reloadConfig)
		if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("allow", "ann@example.com")

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "-config", cfgFile)
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited yields the exit error once, then is closed so that a later
	// receive (the cleanup's, after the test saw the exit) returns at once.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may have exited
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill() //nolint:errcheck // stuck
		}
		if t.Failed() {
			t.Logf("gatehouse log:\n%s", logs.String())
		}
	})
	waitFor(t, "the serve process", func() bool { return strings.Contains(logs.String(), "gatehouse serving") })
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d", mport)
	waitFor(t, "healthz", func() bool {
		resp, err := http.Get(metricsURL + "/healthz")
		if err != nil {
			return false
		}
		return readBody(t, resp) == "ok\n"
	})

	// Sign in through the PIN pages, reading the PIN from the process log.
	c := newClient(t, false)
	appURL := fmt.Sprintf("http://app.localhost:%d", port)
	resp, err := c.Get(appURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	action, vals := parseForm(t, readBody(t, resp), "email")
	vals.Set("email", "ann@example.com")
	resp, err = c.PostForm(resolve(t, resp.Request.URL, action), vals)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	var pin string
	waitFor(t, "the PIN in the log", func() bool {
		m := pinRe.FindStringSubmatch(logs.String())
		if m != nil && m[1] == "ann@example.com" {
			pin = m[2]
		}
		return pin != ""
	})
	action, vals = parseForm(t, page, "code")
	vals.Set("code", pin)
	resp, err = c.PostForm(resolve(t, resp.Request.URL, action), vals)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != "hello" {
		t.Fatalf("after sign-in: %d %q", resp.StatusCode, body)
	}

	// A long streaming response is in flight while the policy changes.
	type result struct {
		chunks int
		err    error
	}
	streamed := make(chan result, 1)
	firstChunk := make(chan struct{})
	go func() {
		resp, err := c.Get(appURL + "/stream")
		if err != nil {
			streamed <- result{err: err}
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			if n == 0 {
				close(firstChunk)
			}
			n++
		}
		streamed <- result{n, sc.Err()}
	}()
	select {
	case <-firstChunk:
	case r := <-streamed:
		t.Fatalf("stream ended early: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("no first chunk")
	}

	write("allow", "bob@example.com")
	var out bytes.Buffer
	reload := exec.Command(bin, "reload", "-config", cfgFile)
	reload.Stdout, reload.Stderr = &out, &out
	if err := reload.Run(); err != nil {
		t.Fatalf("gatehouse reload: %v\n%s", err, out.String())
	}
	waitFor(t, "the reload", func() bool { return strings.Contains(logs.String(), "config reloaded") })

	noFollow := newClient(t, true)
	noFollow.Jar = c.Jar
	refused := func() {
		t.Helper()
		resp, err := noFollow.Get(appURL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusFound {
			t.Fatalf("after the policy change: %d %q, want 403 or a redirect", resp.StatusCode, body)
		}
	}
	refused()

	r := <-streamed
	if r.err != nil || r.chunks != 20 {
		t.Fatalf("in-flight stream got %d chunks (err %v), want all 20", r.chunks, r.err)
	}

	// A broken file: the running configuration stays, the log names the key.
	broken := strings.Replace(reloadConfig, `decision = "{{DECISION}}"`, `decision = "maybe"`, 1)
	if err := os.WriteFile(cfgFile, []byte(strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{METRICS}}", fmt.Sprint(mport),
		"{{DATA}}", filepath.ToSlash(filepath.Join(dir, "data")), "{{ORIGIN}}", origin, "{{EMAIL}}", "ann@example.com").Replace(broken)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rejected reload", func() bool { return strings.Contains(logs.String(), "config reload failed") })
	if l := logs.String(); !strings.Contains(l, "key=apps[0].policies[0].decision") || !strings.Contains(l, "line=") {
		t.Errorf("the log does not name the key at fault:\n%s", l)
	}
	refused() // still the last good policy (bob only), not the broken file's
	select {
	case err := <-exited:
		t.Fatalf("process exited after a broken reload: %v", err)
	default:
	}

	// Access log: one line per request, never a token.
	l := logs.String()
	if !regexp.MustCompile(`msg=access request_id=\S+ host=app\.localhost:\d+ method=GET path=/stream app=stream user=ann@example.com decision=allow status=200`).MatchString(l) {
		t.Errorf("no access line for the stream:\n%s", l)
	}
	if !strings.Contains(l, "decision=deny") {
		t.Errorf("no access line for the refused request")
	}
	if strings.Contains(l, "eyJ") || strings.Contains(l, "CF_Authorization") {
		t.Errorf("a token reached the log:\n%s", l)
	}

	// Reload results are counted.
	resp, err = http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for result, want := range map[string]float64{"success": 1, "error": 1} {
		if got, _ := metricValue(fams, "gatehouse_config_reloads_total", map[string]string{"result": result}); got != want {
			t.Errorf("reloads{result=%q} = %v, want %v", result, got, want)
		}
	}

	// The pid file lives while serving and goes at exit.
	pidFile := filepath.Join(dir, "data", ops.PIDFile)
	if _, err := os.Stat(pidFile); err != nil {
		t.Errorf("pid file: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // checked by the wait
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}
