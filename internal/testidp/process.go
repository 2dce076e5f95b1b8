// Package testidp starts real identity providers for Gatehouse's end-to-end
// tests: the npm oidc-provider as an OpenID provider (scripts/e2e/oidc) and
// Debian's SimpleSAMLphp as a SAML 2.0 IdP (scripts/e2e/saml). Both listen on
// 127.0.0.1, on port 0 a free port chosen at run time (which the returned
// URLs name; tests pass 0, so that test binaries running at once or a
// leftover process cannot collide), and are stopped when the test ends.
//
// The helpers also drive the IdPs' login pages headlessly with a plain
// net/http client that has a cookie jar.
package testidp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// readyTimeout bounds how long a started IdP may take to answer.
const readyTimeout = 60 * time.Second

// RepoRoot returns the directory holding go.mod, found by walking up from the
// working directory (a test's package directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testidp: getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testidp: no go.mod above the working directory")
		}
		dir = parent
	}
}

// process is a child process running in its own process group.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *testkit.SyncBuffer
	done   chan struct{}
	err    error // set before done is closed
}

// startProcess starts cmd in a new process group, and registers a cleanup
// that stops the whole group and logs the output if the test failed.
func startProcess(t testing.TB, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{name: name, cmd: cmd, output: &testkit.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testidp: start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("testidp: %s output:\n%s", name, p.output.String())
		}
	})
	return p
}

// stop sends SIGTERM to the process group, then SIGKILL if it lingers.
func (p *process) stop() {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children of php -S or node that survived their parent.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// waitOutput waits until the process prints a line matching re and
// returns its first submatch, failing the test if the process exits first
// or readyTimeout passes.
func (p *process) waitOutput(t testing.TB, re *regexp.Regexp) string {
	t.Helper()
	m, err := p.awaitOutput(re, readyTimeout)
	if err != nil {
		t.Fatalf("testidp: %v", err)
	}
	return m
}

// awaitOutput is waitOutput within d, returning an error instead.
func (p *process) awaitOutput(re *regexp.Regexp, d time.Duration) (string, error) {
	deadline := time.After(d)
	for {
		if m := re.FindStringSubmatch(p.output.String()); m != nil {
			return m[1], nil
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("%s exited before it was ready (%v):\n%s", p.name, p.err, p.output.String())
		case <-deadline:
			return "", fmt.Errorf("%s printed no %q after %v:\n%s", p.name, re, d, p.output.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitReady polls url until it answers 200, failing the test if the process
// exits first or readyTimeout passes.
func (p *process) waitReady(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("testidp: %s: readiness request: %v", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		lastErr = err
		select {
		case <-p.done:
			t.Fatalf("testidp: %s exited before it was ready (%v):\n%s", p.name, p.err, p.output.String())
		case <-ctx.Done():
			t.Fatalf("testidp: %s not ready at %s after %v: %v\n%s", p.name, url, readyTimeout,
				errors.Join(lastErr, ctx.Err()), p.output.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
