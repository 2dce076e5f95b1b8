package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
)

// PIDFile is the name, in data_dir, of the file holding the serve process id.
const PIDFile = "gatehouse.pid"

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
	for _, key := range restartKeys(old, cfg) {
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

// restartKeys lists the settings that differ between old and cfg but are
// bound when Gatehouse starts.
func restartKeys(old, cfg *config.Config) []string {
	checks := []struct {
		key      string
		old, new any
	}{
		{"team_domain", old.TeamDomain, cfg.TeamDomain},
		{"listen", old.Listen, cfg.Listen},
		{"listen_https", old.ListenHTTPS, cfg.ListenHTTPS},
		{"data_dir", old.DataDir, cfg.DataDir},
		{"global_session", old.GlobalSession, cfg.GlobalSession},
		{"trusted_proxies", old.TrustedProxies, cfg.TrustedProxies},
		{"admins", old.Admins, cfg.Admins},
		{"client_ip_header", old.ClientIPHeader, cfg.ClientIPHeader},
		{"tls", old.TLS, cfg.TLS},
		{"log.level", old.Log.Level, cfg.Log.Level},
		{"log.format", old.Log.Format, cfg.Log.Format},
		{"metrics.listen", old.Metrics.Listen, cfg.Metrics.Listen},
		{"smtp", old.SMTP, cfg.SMTP},
		{"idps", old.IdPs, cfg.IdPs},
	}
	var out []string
	for _, c := range checks {
		if !reflect.DeepEqual(c.old, c.new) {
			out = append(out, c.key)
		}
	}
	return out
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

	unlock, err := lockDataDir(a.cfg.DataDir)
	if err != nil {
		cancel()
		return nil, err
	}
	a.locked.Store(true)
	cleanups = append(cleanups, func() { a.locked.Store(false); unlock() })
	// Only the lock's holder writes and removes the pid file.
	pid := filepath.Join(a.cfg.DataDir, PIDFile)
	if err := os.WriteFile(pid, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		stop()
		return nil, fmt.Errorf("app: write pid file: %w", err)
	}
	cleanups = append(cleanups, func() { os.Remove(pid) })
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
			a.startMetrics(ln, &cleanups)
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

// signalReload sends SIGHUP to the serve process whose pid file is in dataDir.
func signalReload(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, PIDFile))
	if err != nil {
		return 0, fmt.Errorf("app: reload: is gatehouse serve running? %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("app: reload: bad pid file %s", filepath.Join(dataDir, PIDFile))
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return pid, fmt.Errorf("app: reload: signal process %d: %w", pid, err)
	}
	return pid, nil
}

// startMetrics serves the metrics handler on ln until the cleanups run.
func (a *App) startMetrics(ln net.Listener, cleanups *[]func()) {
	srv := &http.Server{
		Handler:           a.MetricsHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.log.Info("metrics serving", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	// Not in a WaitGroup: Serve returns only once the cleanup shuts it down.
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics server", "err", err)
		}
	}()
	*cleanups = append(*cleanups, func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(sctx) //nolint:errcheck // best effort at exit
	})
}
