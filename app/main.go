// Package app is Gatehouse's composition root: it wires the configuration
// into the packages' options, runs the servers and their lifecycle, and
// dispatches on the host. The command line is package cli; app gives it
// `serve`.
package app

import (
	"context"
	"io"

	"github.com/gatehouse-dev/gatehouse/cli"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// Main runs the gatehouse command with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Main(ctx, args, stdout, stderr, serve)
}

// serve runs the proxy with the configuration file at path until ctx ends.
func serve(ctx context.Context, path string, stderr io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	logBuf := ops.NewLogBuffer(stderr) // one write per batch of lines, not per access line
	defer logBuf.Flush()
	log := ops.NewLogger(logBuf, cfg.Log.Level, cfg.Log.Format)
	defer ops.TuneGC(log).Stop()
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	a.EnableReload(path)
	return a.Run(ctx)
}
