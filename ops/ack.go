package ops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// AckSocket, in data_dir, is where the running serve acknowledges the
// mutations of the command line: `gatehouse revoke` returns only once the
// serve has applied the revocation (and cancelled the requests in flight
// that it refuses).
const AckSocket = "gatehouse.sock"

// AckTimeout bounds how long the command line waits for the serve.
const AckTimeout = 10 * time.Second

// ErrNoServe says no serve runs on the data directory.
var ErrNoServe = errors.New("no gatehouse serve is running on this database")

// ListenAck serves the acknowledgement socket of dataDir until the returned
// function is called: each "sync" line makes the serve run apply (pick up
// what other processes wrote), then it answers "ok PID". The caller holds
// the data directory's lock, so a socket left by a crashed serve is stale.
// A socket that cannot be opened is logged, not fatal: serving matters
// more, and the command line then says it cannot confirm.
func ListenAck(ctx context.Context, dataDir string, apply func(context.Context) error, log *slog.Logger) (func(), error) {
	path := filepath.Join(dataDir, AckSocket)
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		log.Error("acknowledgement socket not started; command-line revocations apply within a poll, unconfirmed", "path", path, "err", err)
		return func() {}, nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("ops: acknowledgement socket: %w", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveAck(ctx, c, apply)
		}
	}()
	return func() { ln.Close(); os.Remove(path) }, nil
}

func serveAck(ctx context.Context, c net.Conn, apply func(context.Context) error) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(AckTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "sync" {
		return
	}
	if err := apply(ctx); err != nil {
		fmt.Fprintf(c, "error %v\n", err)
		return
	}
	fmt.Fprintf(c, "ok %d\n", os.Getpid())
}

// AwaitServe asks the serve running on dataDir to apply what this process
// wrote and returns its pid once it has; ErrNoServe when none runs.
func AwaitServe(dataDir string) (string, error) {
	c, err := net.DialTimeout("unix", filepath.Join(dataDir, AckSocket), AckTimeout)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return "", ErrNoServe
	}
	if err != nil {
		return "", fmt.Errorf("reach the running serve: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(AckTimeout))
	if _, err := fmt.Fprintln(c, "sync"); err != nil {
		return "", fmt.Errorf("reach the running serve: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("the running serve did not acknowledge within %v: %w", AckTimeout, err)
	}
	pid, ok := strings.CutPrefix(strings.TrimSpace(line), "ok ")
	if !ok {
		return "", fmt.Errorf("the running serve could not apply it: %s", strings.TrimSpace(line))
	}
	return pid, nil
}
