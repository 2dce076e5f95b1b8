package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gatehouse-dev/gatehouse/config"
)

// HSTSValue is the Strict-Transport-Security header of team-domain responses
// when TLS is on.
const HSTSValue = "max-age=31536000"

// fileCertCheckEvery is how often mode "files" looks at the certificate
// files' modification times.
const fileCertCheckEvery = 10 * time.Second

// acmeChallengePrefix is the path of ACME HTTP-01 challenges.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// tlsServing is what serveTLS needs from a TLS mode.
type tlsServing struct {
	config *tls.Config  // of the HTTPS listener
	http   http.Handler // of the HTTP listener: challenges, then the redirect
	start  func(ctx context.Context) error
	stop   func()
}

// serveTLS serves HTTPS on listen_https and, on httpLn, the HTTP-01
// challenges and a redirect to HTTPS, until ctx is done. Certificates are
// obtained in the background: start-up does not wait for the CA.
func (a *App) serveTLS(ctx context.Context, httpLn net.Listener) error {
	httpsLn, err := net.Listen("tcp", a.cfg.ListenHTTPS)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("app: listen https: %w", err)
	}
	ts, err := a.newTLSServing(httpLn.Addr(), httpsLn.Addr())
	if err != nil {
		httpLn.Close()
		httpsLn.Close()
		return err
	}
	defer ts.stop()
	errLog := slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	base := func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	httpsSrv := &http.Server{
		Handler:           hsts(a.cfg.TeamDomain, a.handler),
		TLSConfig:         ts.config,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          errLog,
		BaseContext:       base,
	}
	httpSrv := &http.Server{
		Handler:           ts.http,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          errLog,
		BaseContext:       base,
	}
	a.log.Info("gatehouse serving", "https", httpsLn.Addr().String(), "http", httpLn.Addr().String(),
		"tls", a.cfg.TLS.Mode, "team", a.cfg.TeamURL(), "apps", len(a.table.Load().Apps()), "version", versionString())
	errc := make(chan error, 2)
	go func() { errc <- httpsSrv.ServeTLS(httpsLn, "", "") }()
	go func() { errc <- httpSrv.Serve(httpLn) }()
	var serveErr error
	if err := ts.start(ctx); err != nil {
		serveErr = err
	} else {
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr = fmt.Errorf("app: serve: %w", err)
			}
		case <-ctx.Done():
		}
	}
	a.log.Info("gatehouse shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{httpsSrv, httpSrv} {
		if err := srv.Shutdown(sctx); err != nil && serveErr == nil {
			serveErr = fmt.Errorf("app: shutdown: %w", err)
		}
	}
	return serveErr
}

// newTLSServing builds the TLS setup of the configured mode for listeners
// bound to httpAddr and httpsAddr.
func (a *App) newTLSServing(httpAddr, httpsAddr net.Addr) (*tlsServing, error) {
	_, httpsPort, _ := net.SplitHostPort(httpsAddr.String())
	redirect := httpsRedirect(a.cfg, httpsPort)
	switch a.cfg.TLS.Mode {
	case "acme":
		return a.newACME(httpAddr, httpsAddr, redirect)
	case "files":
		fc, err := newFileCerts(a.cfg.TLS.Certs, a.log)
		if err != nil {
			return nil, err
		}
		a.watchFileCerts(fc)
		return &tlsServing{
			config: baseTLSConfig(fc.GetCertificate, "h2", "http/1.1"),
			http:   redirect,
			start:  func(context.Context) error { return nil },
			stop:   func() {},
		}, nil
	}
	return nil, fmt.Errorf("app: tls mode %q has no TLS serving", a.cfg.TLS.Mode)
}

// baseTLSConfig is the server configuration shared by the modes: TLS 1.2 at
// least and HTTP/2.
func baseTLSConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error), protos ...string) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     protos,
		GetCertificate: get,
	}
}

// ACMENames returns the names mode "acme" obtains certificates for: the team
// domain and every concrete app domain, lowercase, without ports, sorted and
// without duplicates. Wildcard domains are left out (the config check
// refuses them under "acme").
func ACMENames(c *config.Config) []string {
	seen := map[string]bool{}
	var out []string
	add := func(d string) {
		h, _ := splitHostPortLoose(strings.ToLower(strings.TrimSpace(d)))
		h = strings.TrimSuffix(h, ".")
		if h == "" || strings.Contains(h, "*") || seen[h] {
			return
		}
		seen[h] = true
		out = append(out, h)
	}
	add(c.TeamDomain)
	for _, app := range c.Apps {
		for _, d := range app.Domains {
			add(d)
		}
	}
	sort.Strings(out)
	return out
}

// newACME sets up certmagic on the SQLite storage for ACMENames. Its
// challenge solvers find our own listeners bound (ListenHost and the
// "alternate" ports name them) and leave the answering to them: HTTP-01 on
// the HTTP listener, TLS-ALPN-01 in the HTTPS listener's GetCertificate.
func (a *App) newACME(httpAddr, httpsAddr net.Addr, redirect http.Handler) (*tlsServing, error) {
	t := a.cfg.TLS
	names := ACMENames(a.cfg)
	zl := zap.New(&slogCore{h: a.log.With("component", "certmagic").Handler()})
	var cfg *certmagic.Config
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return cfg, nil },
		Logger:           zl,
	})
	cfg = certmagic.New(cache, certmagic.Config{
		Storage: a.db.CertStorage(),
		Logger:  zl,
		OnEvent: a.certEvent,
	})
	iss := certmagic.ACMEIssuer{
		CA:                      t.CAURL,
		Email:                   t.Email,
		Agreed:                  true,
		DisableHTTPChallenge:    !challengeEnabled(t.Challenges, "http-01"),
		DisableTLSALPNChallenge: !challengeEnabled(t.Challenges, "tls-alpn-01"),
		Logger:                  zl,
	}
	if t.CAURL != "" {
		iss.TestCA = t.CAURL
	}
	if t.CARoot != "" {
		pem, err := os.ReadFile(t.CARoot)
		if err != nil {
			cache.Stop()
			return nil, fmt.Errorf("app: tls.ca_root: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			cache.Stop()
			return nil, fmt.Errorf("app: tls.ca_root: %s holds no PEM certificate", t.CARoot)
		}
		iss.TrustedRoots = pool
	}
	if host, port, err := net.SplitHostPort(httpAddr.String()); err == nil {
		iss.ListenHost = host
		fmt.Sscan(port, &iss.AltHTTPPort)
	}
	if _, port, err := net.SplitHostPort(httpsAddr.String()); err == nil {
		fmt.Sscan(port, &iss.AltTLSALPNPort)
	}
	issuer := certmagic.NewACMEIssuer(cfg, iss)
	cfg.Issuers = []certmagic.Issuer{issuer}

	a.ops.status.setTLS("acme", names, func(domain string) time.Time { return cachedNotAfter(cache, domain) })
	a.SetCertExpiry(a.ops.status.expiries)
	a.log.Info("tls: managing certificates", "names", names, "ca", issuer.CA,
		"http-01", !iss.DisableHTTPChallenge, "tls-alpn-01", !iss.DisableTLSALPNChallenge)
	return &tlsServing{
		config: baseTLSConfig(cfg.GetCertificate, "h2", "http/1.1", "acme-tls/1"),
		http:   issuer.HTTPChallengeHandler(redirect),
		start: func(ctx context.Context) error {
			if err := cfg.ManageAsync(ctx, names); err != nil {
				return fmt.Errorf("app: manage certificates: %w", err)
			}
			return nil
		},
		stop: cache.Stop,
	}, nil
}

// challengeEnabled reports whether the ACME challenge is allowed by
// tls.challenges (all are when the list is empty).
func challengeEnabled(list []string, ch string) bool {
	return len(list) == 0 || slices.Contains(list, ch)
}

// certEvent logs certmagic's certificate progress and records successes
// and failures for the admin page. certmagic emits "cert_obtained" for
// renewals too (with "renewal" true), and "cert_failed" with the error;
// after a failure it retries on its own while the current certificate, if
// any, keeps serving.
func (a *App) certEvent(_ context.Context, event string, data map[string]any) error {
	id, _ := data["identifier"].(string)
	switch event {
	case "cert_obtaining", "cert_obtained", "cert_renewed", "cached_managed_cert":
		a.log.Info("tls: "+strings.ReplaceAll(event, "_", " "), "identifier", data["identifier"], "renewal", data["renewal"])
		if id != "" && (event == "cert_obtained" || event == "cert_renewed") {
			a.ops.status.certOK(id, a.now())
		}
	case "cert_failed":
		a.log.Error("tls: certificate failed; will retry", "identifier", data["identifier"], "renewal", data["renewal"],
			"remaining", data["remaining"], "error", data["error"])
		if id != "" {
			a.ops.status.certFailed(id, certFailure(data), a.now())
		}
	}
	return nil
}

// certFailure is the admin-page text of a "cert_failed" event.
func certFailure(data map[string]any) string {
	what := "obtain"
	if renewal, _ := data["renewal"].(bool); renewal {
		what = "renewal"
	}
	switch e := data["error"].(type) {
	case error:
		return what + ": " + e.Error()
	case nil:
		return what + " failed"
	default:
		return fmt.Sprintf("%s: %v", what, e)
	}
}

// cachedNotAfter is the latest NotAfter of the cached certificates that
// can serve domain, zero when there is none.
func cachedNotAfter(cache *certmagic.Cache, domain string) time.Time {
	var latest time.Time
	for _, c := range cache.AllMatchingCertificates(domain) {
		if c.Leaf != nil && c.Leaf.NotAfter.After(latest) {
			latest = c.Leaf.NotAfter
		}
	}
	return latest
}

// watchFileCerts feeds the status (and so the admin page and the expiry
// metric) from mode "files": every configured domain, its certificate's
// NotAfter, and the result of each reload of its files.
func (a *App) watchFileCerts(fc *fileCerts) {
	var domains []string
	for _, e := range fc.certs {
		domains = append(domains, e.names...)
	}
	a.ops.status.setTLS("files", domains, fc.notAfter)
	now := a.now()
	for _, d := range domains {
		a.ops.status.certOK(d, now)
	}
	fc.report = func(names []string, err error) {
		for _, n := range names {
			if err != nil {
				a.ops.status.certFailed(n, "reload: "+err.Error(), a.now())
			} else {
				a.ops.status.certOK(n, a.now())
			}
		}
	}
	a.SetCertExpiry(a.ops.status.expiries)
}

// httpsRedirect answers the HTTP listener: a 308 to the same URL over HTTPS
// for the names Gatehouse serves, 404 for anything else (including ACME
// challenges that no pending order claimed).
func httpsRedirect(c *config.Config, httpsPort string) http.Handler {
	var patterns []string
	if h, _ := splitHostPortLoose(strings.ToLower(c.TeamDomain)); h != "" {
		patterns = append(patterns, h)
	}
	for _, app := range c.Apps {
		for _, d := range app.Domains {
			h, _ := splitHostPortLoose(strings.ToLower(d))
			patterns = append(patterns, h)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(host, ".")
		known := slices.ContainsFunc(patterns, func(p string) bool { return hostMatches(p, host) })
		if !known || strings.HasPrefix(r.URL.Path, acmeChallengePrefix) {
			http.NotFound(w, r)
			return
		}
		if httpsPort != "" && httpsPort != "443" {
			host = net.JoinHostPort(host, httpsPort)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// hostMatches reports whether host is covered by a configured domain
// pattern: equal, or matching a wildcard first label ("*.x", "*foo.x").
func hostMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	first, rest, ok := strings.Cut(pattern, ".")
	if !ok || !strings.HasPrefix(first, "*") {
		return false
	}
	hfirst, hrest, ok := strings.Cut(host, ".")
	return ok && hrest == rest && hfirst != "" && strings.HasSuffix(hfirst, first[1:])
}

// hsts adds the HSTS header to the team domain's responses.
func hsts(team string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sameHost(r.Host, team) {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		}
		next.ServeHTTP(w, r)
	})
}

// fileCerts serves the certificates of mode "files", reloading a
// certificate when its files change (checked at most every `every`).
type fileCerts struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time
	certs []*fileCert
	// report, when set, is told the result of every reload that loaded
	// new files or failed.
	report func(names []string, err error)
}

// fileCert is one [[tls.certs]] entry and its loaded pair.
type fileCert struct {
	names    []string
	certFile string
	keyFile  string

	mu      sync.Mutex
	cert    *tls.Certificate
	certMod time.Time
	keyMod  time.Time
	checked time.Time
}

// newFileCerts loads every configured certificate; any that fails to load
// fails start-up.
func newFileCerts(list []config.TLSCert, log *slog.Logger) (*fileCerts, error) {
	fc := &fileCerts{log: log, every: fileCertCheckEvery, now: time.Now}
	for i, c := range list {
		names := make([]string, len(c.Domains))
		for j, d := range c.Domains {
			names[j] = strings.ToLower(d)
		}
		e := &fileCert{names: names, certFile: c.CertFile, keyFile: c.KeyFile}
		if err := e.reload(fc.now()); err != nil {
			return nil, fmt.Errorf("app: tls.certs[%d]: %w", i, err)
		}
		log.Info("tls: loaded certificate", "domains", names, "file", c.CertFile)
		fc.certs = append(fc.certs, e)
	}
	return fc, nil
}

// reload loads the pair if either file's modification time changed.
// Called with mu held (or before the entry is shared).
func (e *fileCert) reload(now time.Time) error {
	e.checked = now
	ci, err := os.Stat(e.certFile)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	ki, err := os.Stat(e.keyFile)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if e.cert != nil && ci.ModTime().Equal(e.certMod) && ki.ModTime().Equal(e.keyMod) {
		return nil
	}
	pair, err := tls.LoadX509KeyPair(e.certFile, e.keyFile)
	if err != nil {
		return fmt.Errorf("load %s: %w", e.certFile, err)
	}
	e.cert, e.certMod, e.keyMod = &pair, ci.ModTime(), ki.ModTime()
	return nil
}

// get returns the current pair, reloading it when due.
func (fc *fileCerts) get(e *fileCert) *tls.Certificate {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := fc.now()
	if now.Sub(e.checked) >= fc.every {
		old := e.cert
		if err := e.reload(now); err != nil {
			fc.log.Error("tls: reload certificate failed; serving the previous one", "domains", e.names, "error", err)
			if fc.report != nil {
				fc.report(e.names, err)
			}
		} else if e.cert != old {
			fc.log.Info("tls: reloaded certificate", "domains", e.names, "file", e.certFile)
			if fc.report != nil {
				fc.report(e.names, nil)
			}
		}
	}
	return e.cert
}

// notAfter is the expiry of the certificate loaded for the configured
// domain (as written in tls.certs), zero when none is.
func (fc *fileCerts) notAfter(domain string) time.Time {
	for _, e := range fc.certs {
		if !slices.Contains(e.names, domain) {
			continue
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.cert == nil {
			return time.Time{}
		}
		if e.cert.Leaf != nil {
			return e.cert.Leaf.NotAfter
		}
		if leaf, err := x509.ParseCertificate(e.cert.Certificate[0]); err == nil {
			return leaf.NotAfter
		}
		return time.Time{}
	}
	return time.Time{}
}

// GetCertificate picks the certificate for the SNI name: an exact domain
// first, then a wildcard. An unknown or missing name fails the handshake.
func (fc *fileCerts) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name == "" {
		return nil, errors.New("app: tls: no server name")
	}
	for _, exact := range []bool{true, false} {
		for _, e := range fc.certs {
			for _, n := range e.names {
				if (exact && n == name) || (!exact && n != name && config.CertNameMatches(n, name)) {
					return fc.get(e), nil
				}
			}
		}
	}
	return nil, fmt.Errorf("app: tls: no certificate for %q", name)
}

// splitHostPortLoose splits "host[:port]" at its last colon, if any.
func splitHostPortLoose(h string) (host, port string) {
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i], h[i+1:]
	}
	return h, ""
}

// slogCore is a zapcore.Core writing to a slog.Handler, so certmagic's
// logs join Gatehouse's.
type slogCore struct {
	h      slog.Handler
	fields []zapcore.Field
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	return c.h.Enabled(context.Background(), zapToSlog(l))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{h: c.h, fields: append(slices.Clip(c.fields), fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	r := slog.NewRecord(e.Time, zapToSlog(e.Level), e.Message, 0)
	if e.LoggerName != "" {
		r.AddAttrs(slog.String("logger", e.LoggerName))
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.AddAttrs(slog.Any(k, enc.Fields[k]))
	}
	return c.h.Handle(context.Background(), r)
}

func (c *slogCore) Sync() error { return nil }

func zapToSlog(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}
