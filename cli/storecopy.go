package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/store"
)

// cmdStoreCopy is `gatehouse store copy -config FILE [-from PATH]`: copy the
// SQLite database (data_dir/gatehouse.db, or PATH) into the empty
// PostgreSQL database that the configuration's [store] names, keeping keys,
// sessions, revocations and AUDs, so that the tokens in circulation stay
// valid on the nodes that will use it.
func cmdStoreCopy(ctx context.Context, args []string, stdout io.Writer) error {
	fs, path := cliFlags("store copy")
	from := fs.String("from", "", "the SQLite database `FILE` to copy (default: data_dir/gatehouse.db)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{errors.New("no arguments: the target is the configuration's [store]")}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Store.Backend != config.StorePostgres {
		return fmt.Errorf("store copy: the configuration's [store] backend is %q: set backend = %q and its dsn, the database to copy into", cfg.Store.Backend, config.StorePostgres)
	}
	log := ops.NewLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	file := *from
	if file == "" {
		file = cfg.DatabaseFile()
	}
	src, err := store.OpenTarget(ctx, store.Target{Path: file}, true, log)
	if err != nil {
		return err
	}
	defer src.Close()
	target := StoreTarget(cfg)
	dst, err := store.OpenTarget(ctx, target, true, log)
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, err := store.Copy(ctx, src, dst)
	if err != nil {
		return err
	}
	total := 0
	for _, c := range counts {
		fmt.Fprintf(stdout, "%-16s %d\n", c.Table, c.Rows)
		total += c.Rows
	}
	fmt.Fprintf(stdout, "copied %d rows from %s into %s\n", total, file, target)
	fmt.Fprintln(stdout, "next: start gatehouse serve with this configuration on every node; stop the serve that used the SQLite file first")
	return nil
}
