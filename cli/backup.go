package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// cmdBackup is `gatehouse backup -config FILE OUT`: a consistent copy of
// the database (VACUUM INTO), safe while `gatehouse serve` runs.
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs, path := cliFlags("backup")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("want exactly one argument: the backup file to write")}
	}
	out := fs.Arg(0)
	_, db, err := openConfigStore(ctx, *path)
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
