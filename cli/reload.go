package cli

import (
	"fmt"
	"io"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// cmdReload is `gatehouse reload -config FILE`: it validates FILE, then
// sends SIGHUP to the serve process named by data_dir/gatehouse.pid. A file
// with problems is reported and no signal is sent.
func cmdReload(args []string, stdout io.Writer) error {
	path, err := configFlag("reload", args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	pid, err := ops.SignalReload(cfg.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent SIGHUP to gatehouse (pid %d); see its log for the result\n", pid)
	return nil
}
