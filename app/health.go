package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// readyTimeout bounds the database check of /readyz.
const readyTimeout = 2 * time.Second

// healthz answers 200 "ok" while the process runs.
func (a *App) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 "ready" when the signing keys are loaded and the
// database accepts writes, else 503 with the reason.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

// ready reports why Gatehouse cannot serve, or nil.
func (a *App) ready(ctx context.Context) error {
	if kr := a.keys.Load(); kr == nil || kr.CurrentKeyID() == "" {
		return fmt.Errorf("no signing keys loaded")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := a.db.CheckWritable(ctx); err != nil {
		a.log.Warn("readyz: database not writable", "err", err)
		if errors.Is(err, access.ErrStorageFull) {
			return fmt.Errorf("database not writable: disk full")
		}
		return fmt.Errorf("database not writable")
	}
	return nil
}
