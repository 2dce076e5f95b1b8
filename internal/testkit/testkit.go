// Package testkit holds helpers shared by Gatehouse's tests: a goroutine-safe
// output buffer and the guards of tests that run real external programs
// (Chromium, pebble, SimpleSAMLphp, node). Only tests and other test helpers
// may import it (scripts/check-imports.sh enforces this).
package testkit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// SyncBuffer collects output (of a child process, a logger or a server);
// safe for concurrent use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// debianPackages names the Debian package that provides each external
// program the tests run (scripts/install-test-deps.sh installs them all).
var debianPackages = map[string]string{
	"chromium":            "chromium",
	"pebble":              "pebble",
	"pebble-challtestsrv": "pebble",
	"php":                 "php-cli",
	"node":                "nodejs",
	"npm":                 "npm",
	"certutil":            "libnss3-tools",
	"nginx":               "nginx",
	"caddy":               "caddy",
	"haproxy":             "haproxy",
	"bash":                "bash",
	"git":                 "git",
	"sha256sum":           "coreutils",
	"initdb":              "postgresql",
	"postgres":            "postgresql",
	"pg_ctl":              "postgresql",
	"runuser":             "util-linux",
}

// DebianPackage is the Debian package that provides program, or "" when
// the tests do not know it.
func DebianPackage(program string) string { return debianPackages[program] }

// NeedPrograms guards a test that runs the external programs progs (for
// example "chromium"). In the fast lane (go test -short) it skips the test;
// otherwise it fails the test, naming the Debian package to install, when
// one of them is not installed.
func NeedPrograms(t testing.TB, progs ...string) {
	t.Helper()
	if len(progs) == 0 {
		panic("testkit: NeedPrograms without programs")
	}
	skipShort(t, progs[0])
	for _, p := range progs {
		Program(t, p)
	}
}

// Program is NeedPrograms for one program, returning its path: in PATH, or
// else in /usr/sbin or /sbin (where Debian puts nginx, outside a user's
// PATH).
func Program(t testing.TB, name string) string {
	t.Helper()
	skipShort(t, name)
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p
		}
	}
	if pkg := debianPackages[name]; pkg != "" {
		t.Fatalf("%s is not installed (not in PATH): install the Debian package %s "+
			"(scripts/install-test-deps.sh installs every test dependency): %v", name, pkg, err)
	}
	t.Fatalf("%s is not installed (not in PATH): %v", name, err)
	return ""
}

// NeedPath guards a test that uses path (a file or directory installed by
// the Debian package debianPackage) like NeedPrograms guards programs.
func NeedPath(t testing.TB, path, debianPackage string) {
	t.Helper()
	skipShort(t, debianPackage)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: install the Debian package %s "+
			"(scripts/install-test-deps.sh installs every test dependency): %v", path, debianPackage, err)
	}
}

// skipShort skips t in the fast lane, saying what it needs.
func skipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s: run scripts/test.sh (or go test without -short)", what)
	}
}
