package app

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/proxy"
)

// MetricsHandler serves /metrics, /healthz and /readyz: the handler of the
// metrics listener.
func (a *App) MetricsHandler() http.Handler {
	return ops.Handler(a.ops.metrics, ops.Readiness{Keys: a.keys.Load, Store: a.db, Log: a.log, InSync: a.storeUnavailable})
}

// observe is the proxy's Observe hook: it counts the request and writes
// its access line (when log.access_log is on).
func (a *App) observe(r *http.Request, app, decision, user string, status int, d time.Duration) {
	req := ops.Request{
		App: app, Decision: decision, User: user, Status: status, Duration: d,
		Decided:   decision != proxy.DecisionEndpoint && decision != proxy.DecisionNoApp,
		Authorize: proxy.AuthorizeDuration(r),
		Forwarded: decision == proxy.DecisionAllow || decision == proxy.DecisionBypass,
	}
	a.ops.metrics.CountRequest(req)
	a.ops.accessLog.Write(r, req)
}

// adminStatus is the System panel of the admin overview: certificates,
// the last reload, and the nodes on the store (those seen within the
// hour a dead node's row is kept).
func (a *App) adminStatus(ctx context.Context) access.SystemStatus {
	st := a.ops.status.Snapshot()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	nodes, err := a.node.Status(ctx, nodePruneAfter)
	if err != nil {
		a.log.Warn("admin: read the node registry", "err", err)
		st.NodesError = "the node registry could not be read"
	}
	st.Nodes = nodes
	return st
}

// meteredLoginStore counts sign-ins as the login handler audits them.
type meteredLoginStore struct {
	loginStore
	m *ops.Metrics
}

// Audit counts e and records it.
func (s meteredLoginStore) Audit(ctx context.Context, e access.Event) error {
	s.m.CountAudit(e)
	return s.loginStore.Audit(ctx, e)
}
