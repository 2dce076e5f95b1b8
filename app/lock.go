package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// LockFile, in data_dir, is held exclusively by the one serve that uses
// the directory.
const LockFile = "gatehouse.lock"

// lockDataDir takes the data directory's exclusive lock, refusing with the
// running serve's pid when another holds it. The returned function releases
// it.
func lockDataDir(dir string) (func(), error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("app: lock data_dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if b, err := os.ReadFile(filepath.Join(dir, PIDFile)); err == nil && strings.TrimSpace(string(b)) != "" {
				who = "pid " + strings.TrimSpace(string(b))
			}
			return nil, fmt.Errorf("app: data_dir %s is in use by a running gatehouse serve (%s); one serve per data directory", dir, who)
		}
		return nil, fmt.Errorf("app: lock data_dir: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
