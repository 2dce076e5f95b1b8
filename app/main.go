// Package app is Gatehouse's composition root: configuration, wiring, host
// dispatch and the command line.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// Version is set at build time with -ldflags "-X .../app.Version=v1.2.3".
var Version = "dev"

const usage = `gatehouse: a self-hosted identity-aware proxy

Usage:
  gatehouse serve -config FILE          run the proxy
  gatehouse check-config -config FILE   validate FILE and report every problem
  gatehouse reload -config FILE         validate FILE and make the running serve reload it
  gatehouse backup -config FILE OUT     write a consistent copy of the database to OUT
  gatehouse keys rotate -config FILE    make a new signing key (the running serve uses it)
  gatehouse keys list -config FILE      list the signing keys and their state
  gatehouse revoke -config FILE --user EMAIL       end every session of a user
  gatehouse revoke -config FILE --app NAME [--soft] revoke an app's tokens (soft: re-issue silently)
  gatehouse sessions list -config FILE [--all]     list active (or all) global sessions
  gatehouse service-token create|list|disable|enable|delete -config FILE ...   manage service tokens
  gatehouse api-token create|list|revoke|delete -config FILE ...   manage admin API tokens
  gatehouse version                     print the version
`

// Main runs the gatehouse command with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stderr)
	case "check-config":
		err = cmdCheckConfig(rest, stdout)
	case "reload":
		err = cmdReload(rest, stdout)
	case "backup":
		err = cmdBackup(ctx, rest, stdout)
	case "keys":
		err = cmdKeys(ctx, rest, stdout)
	case "revoke":
		err = cmdRevoke(ctx, rest, stdout)
	case "service-token":
		err = cmdServiceToken(ctx, rest, stdout)
	case "sessions":
		err = cmdSessions(ctx, rest, stdout)
	case "api-token":
		err = cmdAPIToken(ctx, rest, stdout)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "gatehouse %s\n", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "gatehouse %s: %v\n", cmd, ue.error)
			return 2
		}
		fmt.Fprintf(stderr, "gatehouse %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func versionString() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

// configFlag parses "-config FILE" from args of cmd.
func configFlag(cmd string, args []string) (string, error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "gatehouse.toml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return "", usageError{err}
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
