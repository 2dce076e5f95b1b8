package ops

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/gatehouse-dev/gatehouse/web"
)

// AccessLog writes one line per request to a protected host while it is
// on (log.access_log). The line carries no query string, cookie or header
// value, so no token or secret reaches the log. Safe for concurrent use.
type AccessLog struct {
	log *slog.Logger
	on  atomic.Bool
}

// NewAccessLog returns an access log writing to log, on or off.
func NewAccessLog(log *slog.Logger, on bool) *AccessLog {
	l := &AccessLog{log: log}
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
	l.log.LogAttrs(hr.Context(), slog.LevelInfo, "access",
		slog.String("request_id", web.RequestID(hr)),
		slog.String("host", hr.Host),
		slog.String("method", hr.Method),
		slog.String("path", hr.URL.Path),
		slog.String("app", req.App),
		slog.String("user", req.User),
		slog.String("decision", req.Decision),
		slog.Int("status", req.Status),
		slog.Duration("duration", req.Duration),
	)
}
