package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/store"
)

// cmdStoreCopy is `gatehouse store copy -config FILE [-from PATH] [-to
// DSN]`: the SQLite database of the configuration copied into the empty
// PostgreSQL database of its [store] table (or -to), keys, sessions,
// revocations and tokens included, so that a move to PostgreSQL signs
// nobody out.
func cmdStoreCopy(ctx context.Context, args []string, stdout io.Writer) error {
	fs, path := cliFlags("store copy")
	from := fs.String("from", "", "the SQLite database `PATH` to copy (default: data_dir/gatehouse.db)")
	to := fs.String("to", "", "the PostgreSQL `DSN` to copy into, without its password (default: [store] dsn)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	source := store.Target{Path: cfg.DatabaseFile()}
	if *from != "" {
		source.Path = *from
	}
	target := StoreTarget(cfg)
	if *to != "" {
		target = store.Target{Postgres: true, DSN: *to, Password: cfg.Store.Password()}
	}
	if !target.Postgres {
		return usageError{fmt.Errorf("no PostgreSQL database to copy into: set [store] backend = %q and dsn in %s, or pass -to DSN",
			config.StorePostgres, *path)}
	}

	log := ops.NewLogger(stderrOf(ctx), cfg.Log.Level, cfg.Log.Format)
	src, err := store.OpenTarget(ctx, source, true, log)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	defer src.Close()
	dst, err := store.OpenTarget(ctx, target, false, log)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	defer dst.Close()
	rep, err := store.Copy(ctx, src, dst)
	if errors.Is(err, store.ErrTargetNotEmpty) {
		return fmt.Errorf("%w\n(%s: nothing was copied)", err, target)
	}
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "copied %s into %s (schema version %d)\n\n", source, target, rep.SchemaVersion)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS")
	var total int64
	for _, t := range rep.Tables {
		fmt.Fprintf(tw, "%s\t%d\n", t.Table, t.Rows)
		total += t.Rows
	}
	fmt.Fprintf(tw, "total\t%d\n", total)
	tw.Flush()
	for _, s := range rep.Skipped {
		fmt.Fprintf(stdout, "not copied: %s (%s)\n", s.Table, s.Why)
	}
	fmt.Fprintln(stdout)
	if rep.RevocationsAfter > 0 {
		return fmt.Errorf("%d revocations reached %s after the copy's snapshot and are not in %s: stop gatehouse serve, empty the PostgreSQL database and copy again",
			rep.RevocationsAfter, source, target)
	}
	if cfg.Store.Backend == config.StorePostgres && *to == "" {
		fmt.Fprintf(stdout, "next: stop gatehouse serve on SQLite and start it on every node: %s already names this database\n", *path)
	} else {
		fmt.Fprintf(stdout, "next: set [store] backend = %q with this dsn and password_file (or password_env) in %s, and restart gatehouse serve\n",
			config.StorePostgres, *path)
	}
	return nil
}
