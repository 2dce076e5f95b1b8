// Package cli is the gatehouse command line: the command table, help built
// from each command's own flags, and the commands that work on a
// configuration and its database (check-config, init, reload, revoke,
// sessions, service and API tokens, keys, backup, version). `serve` is
// run by the composition root (package app) through a ServeFunc.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gatehouse-dev/gatehouse/config"
)

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
	fmt.Fprintf(stdout, "%s: ok (%s, %s, team %s)\n", path, count(len(cfg.Apps), "app"), count(len(cfg.IdPs), "identity provider"), cfg.TeamURL())
	return nil
}

// count is "1 app", "2 apps".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// cmdServe is `gatehouse serve -config FILE`, run by p.serve.
func (p program) cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	path, err := configFlag("serve", args)
	if err != nil {
		return err
	}
	if p.serve == nil {
		return errors.New("cli: serve is not part of this program")
	}
	return p.serve(ctx, path, stderr)
}
