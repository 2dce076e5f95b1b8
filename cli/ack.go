package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/cluster"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/store"
)

// acknowledge tells what became of the revocation-log entry id that the
// command line wrote. It asks the serve running on this data directory to
// apply it at once (the acknowledgement socket), then waits, for at most
// the ack timeout, until every live node on the store has applied it
// (package cluster). It returns the wait's error, which the audit event
// records (an *access.UnacknowledgedError names the nodes that did not
// acknowledge), and the error the command exits with: non-nil when a serve
// or a node did not confirm, so that the command exits non-zero.
func acknowledge(ctx context.Context, db *store.DB, cfg *config.Config, id int64, stdout io.Writer) (awaitErr, exitErr error) {
	pid, err := ops.AwaitServe(cfg.DataDir)
	noServe := errors.Is(err, ops.ErrNoServe)
	switch {
	case noServe:
	case err != nil:
		exitErr = fmt.Errorf("recorded, but not confirmed: %w", err)
	default:
		fmt.Fprintf(stdout, "applied by the running serve (pid %s): in force now\n", pid)
	}
	timing := ClusterTiming(cfg)
	awaitErr = cluster.Await(ctx, db, id, cluster.AwaitOptions{Timing: timing})
	switch nodes := access.Unacknowledged(awaitErr); {
	case nodes != nil:
		return awaitErr, errors.Join(exitErr, fmt.Errorf("recorded and in force on the nodes that acknowledged it, but %v passed without an acknowledgement from %v: they refuse every request until back in sync with the store",
			timing.AckTimeout, nodes))
	case awaitErr != nil:
		return awaitErr, errors.Join(exitErr, fmt.Errorf("recorded, but the other nodes could not be asked: %w", awaitErr))
	}
	live, err := db.Nodes(ctx, time.Now().Add(-timing.LiveWindow()))
	switch {
	case err == nil && len(live) > 0:
		fmt.Fprintf(stdout, "acknowledged by every node serving on this store (%d): in force everywhere\n", len(live))
	case noServe:
		fmt.Fprintln(stdout, "no gatehouse serve is running on this database: it applies when one starts")
	}
	return nil, exitErr
}

// ClusterTiming is the timing of a node's sync with the store that cfg's
// [store] table sets (the poll and heartbeat keep the cluster package's
// defaults).
func ClusterTiming(cfg *config.Config) cluster.Timing {
	return cluster.Timing{StaleAfter: cfg.Store.StaleAfter.Duration, AckTimeout: cfg.Store.AckTimeout.Duration}
}
