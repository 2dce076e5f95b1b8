package certs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// acmeCerts is mode "acme": certmagic on the caller's storage, managing
// the concrete names of Options.Names. Each name is managed under its own
// context, so that SetNames can stop one without the others.
type acmeCerts struct {
	log    *slog.Logger
	report func(name, failure string)
	cache  *certmagic.Cache
	cfg    *certmagic.Config
	issuer *certmagic.ACMEIssuer

	mu      sync.Mutex
	ctx     context.Context               // of Start; nil before
	names   []string                      // wanted, from acmeNames
	running map[string]context.CancelFunc // managed since Start, by name
}

// newACME sets up certmagic for o. Its challenge solvers find the caller's
// listeners bound (ListenHost and the "alternate" ports name them) and
// leave the answering to them: HTTP-01 in HTTPHandler, TLS-ALPN-01 in the
// HTTPS listener's GetCertificate.
func newACME(o Options, log *slog.Logger, report func(name, failure string)) (*acmeCerts, error) {
	if o.Storage == nil {
		return nil, errors.New("certs: mode acme needs a storage")
	}
	a := &acmeCerts{log: log, report: report, names: acmeNames(o.Names), running: map[string]context.CancelFunc{}}
	var pool *x509.CertPool
	if o.Root != "" {
		pem, err := os.ReadFile(o.Root)
		if err != nil {
			return nil, fmt.Errorf("certs: CA root: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("certs: CA root: %s holds no PEM certificate", o.Root)
		}
	}
	zl := zap.New(&slogCore{h: log.With("component", "certmagic").Handler()})
	a.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return a.cfg, nil },
		Logger:           zl,
	})
	a.cfg = certmagic.New(a.cache, certmagic.Config{
		Storage: o.Storage,
		Logger:  zl,
		OnEvent: a.event,
	})
	iss := certmagic.ACMEIssuer{
		CA:                      o.CA,
		TestCA:                  o.CA,
		Email:                   o.Email,
		Agreed:                  true,
		DisableHTTPChallenge:    !challengeEnabled(o.Challenges, "http-01"),
		DisableTLSALPNChallenge: !challengeEnabled(o.Challenges, "tls-alpn-01"),
		TrustedRoots:            pool,
		Logger:                  zl,
	}
	if host, port, err := net.SplitHostPort(o.HTTPAddr); err == nil {
		iss.ListenHost = host
		fmt.Sscan(port, &iss.AltHTTPPort)
	}
	if _, port, err := net.SplitHostPort(o.HTTPSAddr); err == nil {
		fmt.Sscan(port, &iss.AltTLSALPNPort)
	}
	a.issuer = certmagic.NewACMEIssuer(a.cfg, iss)
	a.cfg.Issuers = []certmagic.Issuer{a.issuer}
	log.Info("tls: managing certificates", "names", a.names, "ca", a.issuer.CA,
		"http-01", !iss.DisableHTTPChallenge, "tls-alpn-01", !iss.DisableTLSALPNChallenge)
	return a, nil
}

// acmeNames returns the names mode "acme" obtains certificates for: the
// concrete names among names, lowercase, without ports or a final dot,
// sorted and without duplicates. Wildcard names are left out (ACME
// obtains certificates for concrete names only).
func acmeNames(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		h := hostOnly(strings.ToLower(strings.TrimSpace(n)))
		if h == "" || strings.Contains(h, "*") || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// challengeEnabled reports whether the ACME challenge is allowed by list
// (all are when the list is empty).
func challengeEnabled(list []string, ch string) bool {
	return len(list) == 0 || slices.Contains(list, ch)
}

// start manages every wanted name under ctx.
func (a *acmeCerts) start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx != nil {
		return errors.New("certs: already started")
	}
	a.ctx = ctx
	return a.sync()
}

// setNames makes names the wanted ones and, once started, manages the new
// ones and lets go of the others.
func (a *acmeCerts) setNames(names []string) error {
	want := acmeNames(names)
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.Equal(want, a.names) {
		return nil
	}
	a.log.Info("tls: managed names changed", "names", want, "was", a.names)
	a.names = want
	if a.ctx == nil {
		return nil
	}
	return a.sync()
}

// sync brings the running names in line with the wanted ones. Called with
// mu held, after start.
func (a *acmeCerts) sync() error {
	var gone []certmagic.SubjectIssuer
	for name, cancel := range a.running {
		if !slices.Contains(a.names, name) {
			cancel() // ends a pending obtain and its retries
			delete(a.running, name)
			gone = append(gone, certmagic.SubjectIssuer{Subject: name})
		}
	}
	if len(gone) > 0 {
		a.cache.RemoveManaged(gone) // ends renewals and serving
	}
	var errs []error
	for _, name := range a.names {
		if _, ok := a.running[name]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(a.ctx)
		if err := a.cfg.ManageAsync(ctx, []string{name}); err != nil {
			cancel()
			errs = append(errs, fmt.Errorf("certs: manage %s: %w", name, err))
			continue
		}
		a.running[name] = cancel
	}
	return errors.Join(errs...)
}

// managed returns the wanted names.
func (a *acmeCerts) managed() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.names)
}

// wanted reports whether name is among the wanted names.
func (a *acmeCerts) wanted(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.names, name)
}

// notAfter is the latest NotAfter of the cached certificates that can
// serve name, zero when there is none.
func (a *acmeCerts) notAfter(name string) time.Time {
	var latest time.Time
	for _, c := range a.cache.AllMatchingCertificates(name) {
		if c.Leaf != nil && c.Leaf.NotAfter.After(latest) {
			latest = c.Leaf.NotAfter
		}
	}
	return latest
}

// stop ends every name's management and the cache's maintenance.
func (a *acmeCerts) stop() {
	a.mu.Lock()
	for name, cancel := range a.running {
		cancel()
		delete(a.running, name)
	}
	a.mu.Unlock()
	a.cache.Stop()
}

// event logs certmagic's certificate progress and reports successes and
// failures. certmagic emits "cert_obtained" for renewals too (with
// "renewal" true), and "cert_failed" with the error; after a failure it
// retries on its own while the current certificate, if any, keeps serving.
// News about a name no longer wanted (an obtain cut short by SetNames) is
// logged but not reported.
func (a *acmeCerts) event(_ context.Context, event string, data map[string]any) error {
	id, _ := data["identifier"].(string)
	switch event {
	case "cert_obtaining", "cert_obtained", "cert_renewed", "cached_managed_cert":
		a.log.Info("tls: "+strings.ReplaceAll(event, "_", " "), "identifier", data["identifier"], "renewal", data["renewal"])
		if id != "" && (event == "cert_obtained" || event == "cert_renewed") && a.wanted(id) {
			a.report(id, "")
		}
	case "cert_failed":
		a.log.Error("tls: certificate failed; will retry", "identifier", data["identifier"], "renewal", data["renewal"],
			"remaining", data["remaining"], "error", data["error"])
		if id != "" && a.wanted(id) {
			a.report(id, certFailure(data))
		}
	}
	return nil
}

// certFailure is the Status.Error of a "cert_failed" event.
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
