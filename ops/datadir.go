package ops

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Files a serve keeps in its data directory.
const (
	// LockFile is held exclusively by the one serve that uses the directory.
	LockFile = "gatehouse.lock"
	// PIDFile holds the serve's process id, for `gatehouse reload`.
	PIDFile = "gatehouse.pid"
)

// LockDataDir takes the data directory's exclusive lock, refusing with the
// running serve's pid when another holds it. The returned function releases
// it.
func LockDataDir(dir string) (func(), error) {
	// With the PostgreSQL store nothing else creates the directory (the
	// lock, the pid file, the acknowledgement socket and the SAML key pair
	// live in it): create it private, as the SQLite store does.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ops: create data_dir: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ops: lock data_dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if b, err := os.ReadFile(filepath.Join(dir, PIDFile)); err == nil && strings.TrimSpace(string(b)) != "" {
				who = "pid " + strings.TrimSpace(string(b))
			}
			return nil, fmt.Errorf("ops: data_dir %s is in use by a running gatehouse serve (%s); one serve per data directory", dir, who)
		}
		return nil, fmt.Errorf("ops: lock data_dir: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// WritePIDFile writes this process's id to dir's pid file; the returned
// function removes it. Only the holder of the directory's lock calls it, so
// only the owner ever removes the file.
func WritePIDFile(dir string) (func(), error) {
	path := filepath.Join(dir, PIDFile)
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("ops: write pid file: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// SignalReload sends SIGHUP to the serve whose pid file is in dir and
// returns its pid.
func SignalReload(dir string) (int, error) {
	path := filepath.Join(dir, PIDFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("ops: reload: is gatehouse serve running? %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("ops: reload: bad pid file %s", path)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return pid, fmt.Errorf("ops: reload: signal process %d: %w", pid, err)
	}
	return pid, nil
}
