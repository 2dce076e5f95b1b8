// Package app is Gatehouse's composition root: configuration, wiring, host
// dispatch and the command line.
package app

import (
	"context"
	"fmt"
	"io"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// Main runs the gatehouse command with args and returns the exit code. The
// commands, their help and the dispatch are in cli_help.go.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runMain(ctx, args, stdout, stderr)
}

// configFlag parses "-config FILE" from args of cmd.
func configFlag(cmd string, args []string) (string, error) {
	fs, path := cliFlags(cmd)
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return *path, nil
}

func cmdCheckConfig(args []string, stdout io.Writer) error {
	path, err := configFlag("check-config", args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d apps, %d identity providers, team %s)\n", path, len(cfg.Apps), len(cfg.IdPs), cfg.TeamURL())
	return nil
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	path, err := configFlag("serve", args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	log := ops.NewLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	a.EnableReload(path)
	return a.Run(ctx)
}
