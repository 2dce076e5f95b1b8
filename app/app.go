package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/certs"
	"github.com/gatehouse-dev/gatehouse/cli"
	"github.com/gatehouse-dev/gatehouse/cluster"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/geoip"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/limit"
	"github.com/gatehouse-dev/gatehouse/login"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/proxy"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// App is a running Gatehouse: the database, the keys, the apps and the
// handlers of the team domain and the protected hosts.
type App struct {
	cfg   *config.Config
	log   *slog.Logger
	db    *store.DB
	rev   *revocation.Engine // the revocations in force, over db's log
	node  *cluster.Node      // this node in the store's node registry (app/revocations.go)
	now   func() time.Time
	table atomic.Pointer[access.Table]
	keys  *token.Manager // the signing keys, kept in line with the database

	ops   opsState                      // live config, metrics, status, key rotation (app/reload.go)
	certs atomic.Pointer[certs.Manager] // while serving with TLS on (app/tls.go)

	handler   http.Handler
	idpCancel context.CancelFunc // stops the IdPs' background discovery
	listener  net.Listener       // set by Listen
	watching  atomic.Bool        // the revocation watcher runs (app/revocations.go)
	prot      *proxy.Handler     // the protected hosts, for shutdown
	locked    atomic.Bool        // Run holds the data directory's lock (ops.LockDataDir)
	geo       *geoip.Resolver    // the country of requests (app/sessions.go)
}

// Options tune an App for tests.
type Options struct {
	Now  func() time.Time // clock; time.Now when nil
	Mail idp.Mailer       // PIN delivery; SMTP or the log by config when nil
	// NodeName names this node in the node registry ("" for
	// store.node_name, or host:pid when that is empty too).
	NodeName string
	// Cluster is the timing of the node's sync with the store (zero
	// fields: the [store] table's stale_after and ack_timeout, then the
	// cluster package's defaults).
	Cluster cluster.Timing
}

// New opens the database, loads or creates the signing key and the apps'
// AUDs, and builds the handlers.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	return NewWithOptions(ctx, cfg, log, Options{})
}

// NewWithOptions is New with test options.
func NewWithOptions(ctx context.Context, cfg *config.Config, log *slog.Logger, o Options) (*App, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &App{cfg: cfg, log: log, now: o.Now}
	if a.now == nil {
		a.now = time.Now
	}
	a.ops.live.Store(cfg)
	db, err := store.OpenTarget(ctx, cli.StoreTarget(cfg), false, log)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.db = db
	// Loaded in the background: checks wait for it, everything else starts.
	a.rev = revocation.Open(ctx, db, a.now(), log)
	if o.NodeName == "" {
		o.NodeName = cfg.Store.NodeName
	}
	fromConfig := cli.ClusterTiming(cfg)
	if o.Cluster.StaleAfter == 0 {
		o.Cluster.StaleAfter = fromConfig.StaleAfter
	}
	if o.Cluster.AckTimeout == 0 {
		o.Cluster.AckTimeout = fromConfig.AckTimeout
	}
	// The node's liveness runs on the wall clock, whatever o.Now says.
	a.node, err = cluster.New(cluster.Options{Name: o.NodeName, Registry: db, Sync: a.syncStore, Timing: o.Cluster, Log: log})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	if err := a.loadKeys(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.loadApps(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.buildHandler(o); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// loadKeys reads the signing keys, creating the first one on first start.
func (a *App) loadKeys(ctx context.Context) error {
	m, err := token.NewManager(ctx, token.ManagerOptions{
		Issuer:   a.cfg.TeamURL(),
		Store:    a.db,
		Schedule: func() token.Schedule { return keySchedule(a.Config()) },
		Log:      a.log,
		Now:      a.now,
		OnRotate: func(ctx context.Context, k token.Key, reason string) error {
			return a.db.Audit(ctx, access.KeyRotationEvent(a.now(), reason, k.ID, ""))
		},
	})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	a.keys = m
	return nil
}

// keySchedule is the signing-key rotation schedule of cfg.
func keySchedule(cfg *config.Config) token.Schedule {
	return token.Schedule{Every: cfg.Keys.RotateEvery.Duration, Lifetime: cfg.LongestSession()}
}

// RotateKey makes a new signing key, which signs from now on.
func (a *App) RotateKey(ctx context.Context) (token.Key, error) { return a.keys.Rotate(ctx) }

// loadApps builds the app table, giving every app its stable AUD.
func (a *App) loadApps(ctx context.Context) error {
	table, err := a.buildTable(ctx, a.cfg)
	if err != nil {
		return err
	}
	for _, p := range table.Apps() {
		a.log.Info("app", "name", p.Name, "domains", p.Domains, "aud", p.AUD)
	}
	a.table.Store(table)
	return nil
}

func (a *App) buildHandler(o Options) error {
	if err := a.initOps(); err != nil {
		return err
	}
	rd, err := pages.New(a.cfg.TeamDomain, a.log)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	mail := o.Mail
	if mail == nil {
		mail = a.mailer()
	}
	providers, otp, err := a.buildProviders(mail)
	if err != nil {
		return err
	}
	apps := a.table.Load
	keys := a.keys.Load
	trusted, err := a.cfg.TrustedProxyPrefixes()
	if err != nil {
		return err
	}
	secure := a.cfg.Secure()
	if a.geo, err = openGeoIP(a.cfg); err != nil {
		return err
	}
	team, err := login.New(login.Options{
		TeamDomain:    a.cfg.TeamDomain,
		TeamURL:       a.cfg.TeamURL(),
		Secure:        secure,
		GlobalSession: a.cfg.GlobalSession.Duration,
		Apps:          apps,
		Keys:          keys,
		Store:         meteredLoginStore{loginStore{a.revoking()}, a.ops.metrics},
		States:        a.db,
		OTP:           otp,
		// The per-IP limits are counted per node, in memory: a client
		// spreading its requests over n nodes gets n times the allowance
		// (the per-address PIN limits, app/idps.go, are shared).
		Limits: login.Limits{
			PINSends:    limit.New(pinSendsPerIP, pinWindow),
			SignIns:     limit.New(signInsPerIP, time.Minute),
			Backchannel: limit.New(backchannelPerIP, time.Minute),
		},
		IdPSessions:    a.revoking(),
		Providers:      providers,
		Pages:          rd,
		Log:            a.log,
		Now:            a.now,
		TrustedProxies: trusted,
		ClientIPHeader: a.cfg.ClientIPHeader,
		Country:        a.geo.Country,
		Sessions:       a.revoking(),
		Seen:           a.touchSession,
	})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	prot := proxy.New(proxy.Options{
		TeamURL:        a.cfg.TeamURL(),
		Secure:         secure,
		Apps:           apps,
		Keys:           keys,
		Store:          a.revoking(),
		Pages:          rd,
		Whoami:         pages.Whoami(rd, token.Decode),
		Observe:        a.observe,
		Log:            a.log,
		Now:            a.now,
		TrustedProxies: trusted,
		ClientIPHeader: a.cfg.ClientIPHeader,
		Country:        a.geo.Country,
		Seen:           a.touchSession,
		Unavailable:    a.storeUnavailable,
	})
	a.rev.Subscribe(prot.CloseRevoked)
	a.prot = prot
	adm, err := admin.New(admin.Options{
		TeamDomain:     a.cfg.TeamDomain,
		TeamURL:        a.cfg.TeamURL(),
		Secure:         secure,
		Admins:         a.cfg.Admins,
		Apps:           apps,
		Keys:           keys,
		Store:          a.adminRevoking(),
		ServiceTokens:  a.revoking(),
		APITokens:      a.revoking(),
		APIFailures:    apiFailureLimit(),
		APILimited:     a.countAPILimited,
		Pages:          rd,
		TrustedProxies: trusted,
		ClientIPHeader: a.cfg.ClientIPHeader,
		Log:            a.log,
		Now:            a.now,
		Status:         a.adminStatus,
	})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	sc, err := a.buildSCIM(prot, adm.Authenticator()) // app/scim.go
	if err != nil {
		return err
	}
	a.handler = web.WithRequestID(&hosts{team: a.cfg.TeamDomain, teamHandler: team, admin: adm, scim: sc, protected: prot, static: pages.Static(),
		unavailable: a.storeUnavailable, errors: &web.Adapter{Log: a.log, Page: rd.Error}})
	return nil
}

// Handler is the whole of Gatehouse as one http.Handler, dispatching on Host.
func (a *App) Handler() http.Handler { return a.handler }

// Listen binds the configured listen address (tests may change it first).
func (a *App) Listen() (net.Listener, error) {
	if a.listener != nil {
		return a.listener, nil
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("app: listen: %w", err)
	}
	a.listener = ln
	return ln, nil
}

// Run serves until ctx is done, then shuts down gracefully. With TLS on
// (tls.mode "acme" or "files") it serves HTTPS on listen_https and, on
// listen, ACME HTTP-01 challenges and a redirect to HTTPS (app/tls.go).
func (a *App) Run(ctx context.Context) error {
	stopOps, err := a.startOps(ctx) // pid file, SIGHUP, metrics, key rotation
	if err != nil {
		return err
	}
	defer stopOps()
	defer a.watchRevocations(ctx)()
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	if a.cfg.TLS.Mode != "off" {
		return a.serveTLS(ctx, ln)
	}
	return a.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if !a.locked.Load() {
		// Run holds the lock already; a bare Serve (tests, embedding)
		// takes it here.
		unlock, err := ops.LockDataDir(a.cfg.DataDir)
		if err != nil {
			return err
		}
		defer unlock()
		closeAck, err := a.listenAck(ctx)
		if err != nil {
			return err
		}
		defer closeAck()
		// Run's start-up follows the keys other nodes and commands
		// add; a bare Serve does it for as long as it serves.
		keysCtx, stopKeys := context.WithCancel(ctx)
		var keys sync.WaitGroup
		keys.Go(func() { a.keys.Run(keysCtx) })
		defer keys.Wait()
		defer stopKeys()
	}
	defer a.watchRevocations(ctx)()
	handler := a.handler
	if a.cfg.Secure() {
		// Plain HTTP behind a TLS terminator (public_scheme = "https").
		handler = web.HSTS(a.cfg.TeamDomain, a.Apps, handler)
	}
	srv := a.server(ctx, handler, 120*time.Second)
	a.log.Info("gatehouse serving", "addr", ln.Addr().String(), "team", a.cfg.TeamURL(), "apps", len(a.table.Load().Apps()), "version", cli.VersionString())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("app: serve: %w", err)
	case <-ctx.Done():
	}
	return a.shutdown(srv)
}

// server is an HTTP server of h whose requests outlive ctx (a stop lets
// them finish within shutdown_grace), logging to the app's logger.
func (a *App) server(ctx context.Context, h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       idle,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// shutdown stops servers after a deliberate stop: long-lived connections
// (WebSockets, event streams) are closed at once, other requests get
// shutdown_grace to finish, and those still open then are cut and
// counted. A deliberate stop is a clean exit even when it had to cut.
func (a *App) shutdown(servers ...*http.Server) error {
	grace := a.cfg.ShutdownGrace.Duration
	closed := 0
	if a.prot != nil {
		closed = a.prot.CloseLongLived()
	}
	a.log.Info("gatehouse shutting down", "grace", grace, "long_lived_closed", closed)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			cut := 0
			if a.prot != nil {
				cut = a.prot.InFlight()
			}
			a.log.Warn("shutdown grace ended; cutting the requests still open", "grace", grace, "cut", cut)
			_ = srv.Close()
		}
	}
	return nil
}

// Close releases the database.
func (a *App) Close() error {
	if a.idpCancel != nil {
		a.idpCancel()
	}
	_ = a.geo.Close()
	if a.db == nil {
		return nil
	}
	err := a.db.Close()
	a.db = nil
	return err
}

// Store returns the database, for commands and tests.
func (a *App) Store() *store.DB { return a.db }

// Revocations returns the revocation engine, for tests.
func (a *App) Revocations() *revocation.Engine { return a.rev }

// Apps returns the current app table.
func (a *App) Apps() *access.Table { return a.table.Load() }
