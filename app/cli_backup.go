package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gatehouse-dev/gatehouse/store"
)

// cmdBackup is `gatehouse backup -config FILE OUT`: a consistent copy of
// the database (VACUUM INTO), safe while `gatehouse serve` runs.
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "gatehouse.toml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("want exactly one argument: the backup file to write")}
	}
	out := fs.Arg(0)
	cfg, err := LoadConfig(*path)
	if err != nil {
		return err
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, out); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return fmt.Errorf("app: backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", out, st.Size())
	return nil
}

// openExisting opens cfg's database, refusing to create a new one.
func openExisting(ctx context.Context, cfg *Config) (*store.DB, error) {
	file := filepath.Join(cfg.DataDir, "gatehouse.db")
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("app: no database at %s (check data_dir): %w", file, err)
	}
	db, err := store.Open(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return db, nil
}
