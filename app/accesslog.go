package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/proxy"
	"github.com/gatehouse-dev/gatehouse/web"
)

// observe is the proxy's Observe hook: it counts the request and, when
// log.access_log is on, writes one access line. The line carries no query
// string, cookie or header value, so no token or secret reaches the log.
func (a *App) observe(r *http.Request, app, decision, user string, status int, d time.Duration) {
	m := a.ops.metrics
	m.requests.WithLabelValues(app, decision).Inc()
	if status == http.StatusGatewayTimeout && (decision == proxy.DecisionAllow || decision == proxy.DecisionBypass) {
		m.timeouts.WithLabelValues(app).Inc()
	}
	if decision != proxy.DecisionEndpoint && decision != proxy.DecisionNoApp {
		m.authorize.Observe(proxy.AuthorizeDuration(r).Seconds())
	}
	if !a.ops.accessLog.Load() {
		return
	}
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "access",
		slog.String("request_id", web.RequestID(r)),
		slog.String("host", r.Host),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("app", app),
		slog.String("user", user),
		slog.String("decision", decision),
		slog.Int("status", status),
		slog.Duration("duration", d),
	)
}

// meteredLoginStore counts sign-ins as the login handler audits them.
type meteredLoginStore struct {
	loginStore
	m *metrics
}

// Audit counts e and records it.
func (s meteredLoginStore) Audit(ctx context.Context, e access.Event) error {
	s.m.countAudit(e)
	return s.loginStore.Audit(ctx, e)
}
