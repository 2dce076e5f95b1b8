package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// readyTimeout bounds the database check of /readyz.
const readyTimeout = 2 * time.Second

// WriteChecker is what readiness asks of the store.
type WriteChecker interface {
	// CheckWritable returns an error when the store cannot accept writes,
	// wrapping access.ErrStorageFull when it has no room.
	CheckWritable(ctx context.Context) error
}

// Readiness decides /readyz: Gatehouse can serve when its signing keys
// are loaded and the store accepts writes.
type Readiness struct {
	Keys  func() *token.Keyring // the keyring in force
	Store WriteChecker
	Log   *slog.Logger // why the store is not writable; discarded when nil
	// InSync, when set, errs while the node is out of sync with the store
	// for longer than its stale window: it refuses every credentialed
	// request then, and a load balancer should send them elsewhere.
	InSync func() error
}

// reason says why Gatehouse cannot serve, "" when it can. It is safe to
// show to the prober; the store's own error goes to the log.
func (r Readiness) reason(ctx context.Context) string {
	if kr := r.Keys(); kr == nil || kr.CurrentKeyID() == "" {
		return "no signing keys loaded"
	}
	if r.InSync != nil && r.InSync() != nil {
		return "not in sync with the session store"
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := r.Store.CheckWritable(ctx); err != nil {
		if r.Log != nil {
			r.Log.Warn("readyz: database not writable", "err", err)
		}
		if errors.Is(err, access.ErrStorageFull) {
			return "database not writable: disk full"
		}
		return "database not writable"
	}
	return ""
}

// Handler serves /metrics from m, /healthz and /readyz: the handler of the
// metrics listener.
func Handler(m *Metrics, ready Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{m.o.Log},
	}))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		readyz(w, r, ready)
	})
	return mux
}

// healthz answers 200 "ok" while the process runs.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 "ready" when Gatehouse can serve, else 503 with the
// reason.
func readyz(w http.ResponseWriter, r *http.Request, ready Readiness) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if why := ready.reason(r.Context()); why != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", why)
		return
	}
	fmt.Fprintln(w, "ready")
}

// promLogger sends promhttp's errors to the process log.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("metrics: scrape", "err", v) }

// ServeMetrics serves h (the Handler of the metrics listener) on ln until
// the returned function shuts it down.
func ServeMetrics(ln net.Listener, h http.Handler, log *slog.Logger) (stop func()) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("metrics serving", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx) //nolint:errcheck // best effort at exit
	}
}
