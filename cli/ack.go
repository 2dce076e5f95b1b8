package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/gatehouse-dev/gatehouse/ops"
)

// reportAck tells what became of a mutation the command line wrote: applied
// by the running serve, or waiting for one to start. It fails when a serve
// runs but does not acknowledge, so that the command exits non-zero.
func reportAck(dataDir string, stdout io.Writer) error {
	pid, err := ops.AwaitServe(dataDir)
	switch {
	case errors.Is(err, ops.ErrNoServe):
		fmt.Fprintln(stdout, "no gatehouse serve is running on this database: it applies when one starts")
		return nil
	case err != nil:
		return fmt.Errorf("recorded, but not confirmed: %w", err)
	}
	fmt.Fprintf(stdout, "applied by the running serve (pid %s): in force now\n", pid)
	return nil
}
