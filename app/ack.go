package app

import (
	"context"

	"github.com/gatehouse-dev/gatehouse/ops"
)

// listenAck serves the acknowledgement socket (ops.AckSocket) until ctx
// ends: a "sync" makes the serve apply what other processes wrote and
// acknowledge it at once in its heartbeat, which the command line's wait
// for every node's acknowledgement then sees.
func (a *App) listenAck(ctx context.Context) (func(), error) {
	return ops.ListenAck(ctx, a.cfg.DataDir, a.node.SyncNow, a.log)
}
