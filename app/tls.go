package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/certs"
	"github.com/gatehouse-dev/gatehouse/cli"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/web"
)

// serveTLS serves HTTPS on listen_https and, on httpLn, the HTTP-01
// challenges and a redirect to HTTPS, until ctx is done. Certificates are
// obtained in the background: start-up does not wait for the CA.
func (a *App) serveTLS(ctx context.Context, httpLn net.Listener) error {
	httpsLn, err := net.Listen("tcp", a.cfg.ListenHTTPS)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("app: listen https: %w", err)
	}
	m, err := a.newCerts(httpLn.Addr(), httpsLn.Addr())
	if err != nil {
		httpLn.Close()
		httpsLn.Close()
		return err
	}
	defer func() {
		a.certs.Store(nil)
		m.Close()
	}()
	httpsSrv := a.server(ctx, web.HSTS(a.cfg.TeamDomain, a.Apps, a.handler), 120*time.Second)
	httpsSrv.TLSConfig = m.TLSConfig()
	httpSrv := a.server(ctx, m.HTTPHandler(), 30*time.Second)
	a.log.Info("gatehouse serving", "https", httpsLn.Addr().String(), "http", httpLn.Addr().String(),
		"tls", a.cfg.TLS.Mode, "team", a.cfg.TeamURL(), "apps", len(a.table.Load().Apps()), "version", cli.VersionString())
	errc := make(chan error, 2)
	go func() { errc <- httpsSrv.ServeTLS(httpsLn, "", "") }()
	go func() { errc <- httpSrv.Serve(httpLn) }()
	var serveErr error
	if err := m.Start(ctx); err != nil {
		serveErr = fmt.Errorf("app: %w", err)
	} else {
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr = fmt.Errorf("app: serve: %w", err)
			}
		case <-ctx.Done():
		}
	}
	_ = a.shutdown(httpsSrv, httpSrv)
	return serveErr
}

// newCerts sets up the certificates of tls.mode for listeners bound to
// httpAddr and httpsAddr, for the apps of the live configuration, and feeds
// the status (the admin page and the expiry metric) from them. It holds
// the reload lock, so that a reload sees either no manager or this one.
func (a *App) newCerts(httpAddr, httpsAddr net.Addr) (*certs.Manager, error) {
	a.ops.reloadMu.Lock()
	defer a.ops.reloadMu.Unlock()
	t := a.cfg.TLS
	o := certs.Options{
		Mode:       t.Mode,
		Names:      a.Config().CertNames(a.cfg.TeamDomain),
		HTTPAddr:   httpAddr.String(),
		HTTPSAddr:  httpsAddr.String(),
		Storage:    a.db.CertStorage(),
		CA:         t.CAURL,
		Root:       t.CARoot,
		Email:      t.Email,
		Challenges: t.Challenges,
		Log:        a.log,
		OnStatus:   a.certStatus,
		Now:        a.now,
	}
	for i, c := range t.Certs {
		o.Files = append(o.Files, certs.File{Label: fmt.Sprintf("tls.certs[%d]", i),
			Domains: c.Domains, CertFile: c.CertFile, KeyFile: c.KeyFile})
	}
	m, err := certs.New(o)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.ops.status.SetTLS(t.Mode, m.Managed(), m.NotAfter)
	a.ops.metrics.SetCertExpiry(a.ops.status.Expiries)
	a.certs.Store(m)
	return m, nil
}

// reloadCerts gives the certificate manager, if one runs, the names of
// cfg's apps: a new app domain gets its certificate, a removed one stops
// being managed. The team domain is the running one (changing it needs a
// restart). Called with the reload lock held.
func (a *App) reloadCerts(cfg *config.Config) {
	m := a.certs.Load()
	if m == nil {
		return
	}
	if err := m.SetNames(cfg.CertNames(a.cfg.TeamDomain)); err != nil {
		a.log.Error("config reload: managing the new certificate names", "err", err)
	}
	a.ops.status.SetTLS(a.cfg.TLS.Mode, m.Managed(), m.NotAfter)
}

// certStatus records a certificate's news for the admin page.
func (a *App) certStatus(s certs.Status) {
	if s.Error == "" {
		a.ops.status.CertOK(s.Name, s.At)
	} else {
		a.ops.status.CertFailed(s.Name, s.Error, s.At)
	}
}
