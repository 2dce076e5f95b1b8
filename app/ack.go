package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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

// ackTimeout bounds how long the command line waits for the serve.
const ackTimeout = 10 * time.Second

// errNoServe says no serve runs on the data directory.
var errNoServe = errors.New("no gatehouse serve is running on this database")

// listenAck serves the acknowledgement socket until ctx ends: each "sync"
// line makes the serve apply what other processes wrote, then it answers
// "ok".
func (a *App) listenAck(ctx context.Context) (func(), error) {
	path := filepath.Join(a.cfg.DataDir, AckSocket)
	_ = os.Remove(path) // a stale socket of a crashed serve (the data_dir lock is ours)
	ln, err := net.Listen("unix", path)
	if err != nil {
		// Serving matters more: the command line then cannot confirm.
		a.log.Error("acknowledgement socket not started; command-line revocations apply within a poll, unconfirmed", "path", path, "err", err)
		return func() {}, nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("app: acknowledgement socket: %w", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go a.serveAck(ctx, c)
		}
	}()
	return func() { ln.Close(); os.Remove(path) }, nil
}

func (a *App) serveAck(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ackTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "sync" {
		return
	}
	if err := a.rev.Poll(ctx); err != nil {
		fmt.Fprintf(c, "error %v\n", err)
		return
	}
	if err := a.db.PollServiceTokens(ctx); err != nil {
		fmt.Fprintf(c, "error %v\n", err)
		return
	}
	fmt.Fprintf(c, "ok %d\n", os.Getpid())
}

// awaitServe asks the serve running on dataDir to apply what this process
// wrote and returns its pid once it has; errNoServe when none runs.
func awaitServe(dataDir string) (string, error) {
	c, err := net.DialTimeout("unix", filepath.Join(dataDir, AckSocket), ackTimeout)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return "", errNoServe
	}
	if err != nil {
		return "", fmt.Errorf("reach the running serve: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ackTimeout))
	if _, err := fmt.Fprintln(c, "sync"); err != nil {
		return "", fmt.Errorf("reach the running serve: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("the running serve did not acknowledge within %v: %w", ackTimeout, err)
	}
	pid, ok := strings.CutPrefix(strings.TrimSpace(line), "ok ")
	if !ok {
		return "", fmt.Errorf("the running serve could not apply it: %s", strings.TrimSpace(line))
	}
	return pid, nil
}

// reportAck tells what became of a mutation the command line wrote: applied
// by the running serve, or waiting for one to start. It fails when a serve
// runs but does not acknowledge, so that the command exits non-zero.
func reportAck(dataDir string, stdout interface{ Write([]byte) (int, error) }) error {
	pid, err := awaitServe(dataDir)
	switch {
	case errors.Is(err, errNoServe):
		fmt.Fprintln(stdout, "no gatehouse serve is running on this database: it applies when one starts")
		return nil
	case err != nil:
		return fmt.Errorf("recorded, but not confirmed: %w", err)
	}
	fmt.Fprintf(stdout, "applied by the running serve (pid %s): in force now\n", pid)
	return nil
}
