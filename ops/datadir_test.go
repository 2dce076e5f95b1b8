package ops

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	removePID, err := WritePIDFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDataDir(dir); err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	removePID()
	if _, err := os.Stat(filepath.Join(dir, PIDFile)); !os.IsNotExist(err) {
		t.Fatalf("pid file left: %v", err)
	}
	unlock()
	again, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}

func TestSignalReloadWithoutServe(t *testing.T) {
	tests := []struct {
		name, pidFile, want string
	}{
		{"no pid file", "", "is gatehouse serve running?"},
		{"garbage", "not a pid\n", "bad pid file"},
		{"zero", "0\n", "bad pid file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.pidFile != "" {
				if err := os.WriteFile(filepath.Join(dir, PIDFile), []byte(tt.pidFile), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := SignalReload(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
