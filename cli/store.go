package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/store"
)

// cliFlags returns a silent flag set for the command cmd with its -config
// flag already defined.
func cliFlags(cmd string) (*flag.FlagSet, *string) {
	fs := newFlagSet(cmd)
	return fs, fs.String("config", "gatehouse.toml", "the configuration `FILE`")
}

// openConfigStore loads the configuration file at path and opens the
// database it names, which must exist. The caller closes the database.
func openConfigStore(ctx context.Context, path string) (*config.Config, *store.DB, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

// StoreTarget is the database cfg names: data_dir/gatehouse.db, or the
// PostgreSQL database of [store].
func StoreTarget(cfg *config.Config) store.Target {
	return store.Target{
		Postgres: cfg.Store.Backend == config.StorePostgres,
		Path:     cfg.DatabaseFile(),
		DSN:      cfg.Store.DSN,
		Password: cfg.Store.Password(),
	}
}

// openExisting opens cfg's database, refusing to create a new SQLite file.
// What the store reports (an applied migration) goes to standard error, in
// the configured log format.
func openExisting(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.OpenTarget(ctx, StoreTarget(cfg), true, ops.NewLogger(stderrOf(ctx), cfg.Log.Level, cfg.Log.Format))
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return db, nil
}
