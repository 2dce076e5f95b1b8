package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// TestOneServePerDataDir: a second serve on a data directory in use refuses
// with the running serve's pid, and leaves its pid file alone.
func TestOneServePerDataDir(t *testing.T) {
	dir := t.TempDir()
	first := startEnv(t, e2eConfig, dir)
	// Serve (unlike Run) writes no pid file: stand in for Run's.
	pidFile := filepath.Join(dir, ops.PIDFile)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first Serve holds the lock once it answers.
	readBody(t, get(t, newClient(t, true), first.team+"/cdn-cgi/access/certs", false))
	cfg, err := parseTestConfig(t, e2eConfig, dir, first.port)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewWithOptions(context.Background(), cfg, discardLogger(), Options{Mail: newPinMailer()})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = second.Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "in use by a running gatehouse serve (pid "+strconv.Itoa(os.Getpid())+")") {
		t.Fatalf("second serve: %v", err)
	}
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("the second serve removed the first's pid file: %v", err)
	}
}

// parseTestConfig parses tmpl as startEnvAt does, for port and data dir.
func parseTestConfig(t *testing.T, tmpl, dataDir string, port int) (*config.Config, error) {
	t.Helper()
	text := strings.NewReplacer("{{PORT}}", strconv.Itoa(port), "{{DATA}}", filepath.ToSlash(dataDir)).Replace(tmpl)
	return config.Parse([]byte(text), "test.toml")
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
