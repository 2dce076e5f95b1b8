package ops

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/gatehouse-dev/gatehouse/web"
)

// AccessLog writes one line per request to a protected host while it is
// on (log.access_log). The line carries no query string, cookie or header
// value, so no token or secret reaches the log. Over the process logger
// (NewLogger) it formats the line itself, without allocating; over any
// other logger it logs a record. Safe for concurrent use.
type AccessLog struct {
	log  *slog.Logger
	fast *processHandler // log's handler when NewLogger made it, else nil
	on   atomic.Bool
}

// NewAccessLog returns an access log writing to log, on or off.
func NewAccessLog(log *slog.Logger, on bool) *AccessLog {
	l := &AccessLog{log: log}
	l.fast, _ = log.Handler().(*processHandler)
	l.on.Store(on)
	return l
}

// SetOn turns the access log on or off (a reload may change it).
func (l *AccessLog) SetOn(on bool) { l.on.Store(on) }

// Write logs req, what the proxy reported about hr, when the access log
// is on.
func (l *AccessLog) Write(hr *http.Request, req Request) {
	if !l.on.Load() {
		return
	}
	f := accessFields{
		requestID: web.RequestID(hr), host: hr.Host, method: hr.Method, path: hr.URL.Path,
		app: req.App, user: req.User, decision: req.Decision, status: req.Status, duration: req.Duration,
	}
	if l.fast != nil {
		l.fast.writeAccess(&f)
		return
	}
	l.log.LogAttrs(hr.Context(), slog.LevelInfo, "access",
		slog.String("request_id", f.requestID),
		slog.String("host", f.host),
		slog.String("method", f.method),
		slog.String("path", f.path),
		slog.String("app", f.app),
		slog.String("user", f.user),
		slog.String("decision", f.decision),
		slog.Int("status", f.status),
		slog.Duration("duration", f.duration),
	)
}
