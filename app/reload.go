package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// opsState is the operational side of an App: the live configuration, the
// metrics and the key-rotation bookkeeping.
type opsState struct {
	configPath string                        // file re-read on SIGHUP; "" disables reload
	live       atomic.Pointer[config.Config] // configuration in force (startup or last reload)
	accessLog  *ops.AccessLog                // on when log.access_log of the live configuration is
	metrics    *ops.Metrics
	reloadMu   sync.Mutex // one reload at a time
	status     ops.Status // certificates and last reload, for the admin page and the expiry metric
}

// initOps sets up the live configuration and metrics and prunes the
// keyring; called while the handlers are built.
func (a *App) initOps() error {
	a.ops.accessLog = ops.NewAccessLog(a.log, a.cfg.Log.AccessLog)
	a.ops.metrics = ops.NewMetrics(ops.MetricsOptions{Stats: a.db, Log: a.log, Now: a.now})
	a.ops.status.SetTLS(a.cfg.TLS.Mode, nil, nil)
	return nil
}

// Config returns the configuration in force: the startup one, or the last
// one reloaded. Handlers that honour reloads read it on each use.
func (a *App) Config() *config.Config { return a.ops.live.Load() }

// EnableReload makes Run reload path on SIGHUP.
func (a *App) EnableReload(path string) { a.ops.configPath = path }

// Reload re-reads the configuration file given to EnableReload and applies
// it; an invalid file leaves the running configuration in force.
func (a *App) Reload(ctx context.Context) error {
	if a.ops.configPath == "" {
		return errors.New("app: reload: no configuration file")
	}
	cfg, err := config.Load(a.ops.configPath)
	if err != nil {
		a.ops.metrics.CountReload(err)
		a.ops.status.Reloaded(a.now(), err)
		a.logReloadError(err)
		return err
	}
	return a.ApplyConfig(ctx, cfg)
}

// logReloadError logs each problem of a rejected file with its key and line.
func (a *App) logReloadError(err error) {
	var ce *config.Error
	if !errors.As(err, &ce) {
		a.log.Error("config reload failed; keeping the running configuration", "err", err)
		return
	}
	for _, p := range ce.Problems {
		a.log.Error("config reload failed; keeping the running configuration",
			"file", ce.File, "line", p.Line, "key", p.Key, "problem", p.Msg)
	}
}

// ApplyConfig swaps in cfg (already validated): the app table with every
// app's stored AUD, the access-log switch and the key-rotation settings.
// Requests in flight finish with the table they started with. Settings
// that are bound at start are reported as needing a restart and ignored.
func (a *App) ApplyConfig(ctx context.Context, cfg *config.Config) error {
	a.ops.reloadMu.Lock()
	defer a.ops.reloadMu.Unlock()
	old := a.ops.live.Load()
	table, err := a.buildTable(ctx, cfg)
	if err != nil {
		a.ops.metrics.CountReload(err)
		a.ops.status.Reloaded(a.now(), err)
		a.log.Error("config reload failed; keeping the running configuration", "err", err)
		return err
	}
	for _, key := range config.RestartKeys(old, cfg) {
		a.log.Warn("config reload: this setting needs a restart; the running value is kept", "key", key)
	}
	a.table.Store(table)
	a.ops.live.Store(cfg)
	a.ops.accessLog.SetOn(cfg.Log.AccessLog)
	a.reloadCerts(cfg)
	a.ops.metrics.CountReload(nil)
	a.ops.status.Reloaded(a.now(), nil)
	a.log.Info("config reloaded", "apps", len(table.Apps()))
	return nil
}

// buildTable converts cfg's apps, giving each its stable AUD.
func (a *App) buildTable(ctx context.Context, cfg *config.Config) (*access.Table, error) {
	apps, err := cfg.AccessApps()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	for _, p := range apps {
		aud, err := a.db.AppAUD(ctx, p.Name, p.AUD)
		if err != nil {
			return nil, fmt.Errorf("app: aud of %q: %w", p.Name, err)
		}
		p.AUD = aud
	}
	return access.NewTable(apps), nil
}

// startOps starts what a serving process runs beside the proxy: the pid
// file, SIGHUP reloads, the metrics listener, the key poller and the
// rotation schedule. The returned function stops them all.
func (a *App) startOps(ctx context.Context) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var cleanups []func()
	stop := func() {
		cancel()
		wg.Wait()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}

	unlock, err := ops.LockDataDir(a.cfg.DataDir)
	if err != nil {
		cancel()
		return nil, err
	}
	a.locked.Store(true)
	cleanups = append(cleanups, func() { a.locked.Store(false); unlock() })
	removePID, err := ops.WritePIDFile(a.cfg.DataDir) // only the lock's holder
	if err != nil {
		stop()
		return nil, err
	}
	cleanups = append(cleanups, removePID)
	closeAck, err := a.listenAck(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	cleanups = append(cleanups, closeAck)

	if l := a.cfg.Metrics.Listen; l != "" {
		ln, err := net.Listen("tcp", l)
		if err != nil {
			// Serving the proxy matters more than its metrics: say so loudly
			// and carry on.
			a.log.Error("metrics listener not started; /metrics, /healthz and /readyz are unavailable", "addr", l, "err", err)
		}
		if ln != nil {
			cleanups = append(cleanups, ops.ServeMetrics(ln, a.MetricsHandler(), a.log))
		}
	}

	if a.ops.configPath != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		cleanups = append(cleanups, func() { signal.Stop(hup) })
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					a.log.Info("SIGHUP: reloading the configuration", "file", a.ops.configPath)
					a.Reload(ctx) //nolint:errcheck // logged by Reload
				}
			}
		})
	}

	wg.Go(func() { a.keys.Run(ctx) })
	return stop, nil
}
