package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// fileCheckEvery is how often mode "files" looks at the certificate files'
// modification times.
const fileCheckEvery = 10 * time.Second

// errNoServerName fails a handshake without SNI.
var errNoServerName = errors.New("certs: no server name")

// fileCerts serves the certificates of mode "files", reloading a
// certificate when its files change (checked at most every `every`).
type fileCerts struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time
	certs []*fileCert
	// report is told the result of every reload that loaded new files or
	// failed, by domain.
	report func(name, failure string)
}

// fileCert is one File and its loaded pair.
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

// newFileCerts loads every certificate of list, reporting each domain as
// loaded; any that fails to load fails New.
func newFileCerts(list []File, log *slog.Logger, now func() time.Time, report func(name, failure string)) (*fileCerts, error) {
	fc := &fileCerts{log: log, every: fileCheckEvery, now: now, report: report}
	for i, c := range list {
		names := make([]string, len(c.Domains))
		for j, d := range c.Domains {
			names[j] = strings.ToLower(d)
		}
		e := &fileCert{names: names, certFile: c.CertFile, keyFile: c.KeyFile}
		if err := e.reload(fc.now()); err != nil {
			label := c.Label
			if label == "" {
				label = fmt.Sprintf("file %d", i)
			}
			return nil, fmt.Errorf("certs: %s: %w", label, err)
		}
		log.Info("tls: loaded certificate", "domains", names, "file", c.CertFile)
		fc.certs = append(fc.certs, e)
	}
	for _, d := range fc.domains() {
		report(d, "")
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
	if now.Sub(e.checked) < fc.every {
		return e.cert
	}
	old := e.cert
	if err := e.reload(now); err != nil {
		fc.log.Error("tls: reload certificate failed; serving the previous one", "domains", e.names, "error", err)
		for _, n := range e.names {
			fc.report(n, "reload: "+err.Error())
		}
	} else if e.cert != old {
		fc.log.Info("tls: reloaded certificate", "domains", e.names, "file", e.certFile)
		for _, n := range e.names {
			fc.report(n, "")
		}
	}
	return e.cert
}

// domains lists the domains of every certificate, sorted.
func (fc *fileCerts) domains() []string {
	var out []string
	for _, e := range fc.certs {
		out = append(out, e.names...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// notAfter is the expiry of the certificate loaded for the domain (as
// listed in File.Domains), zero when none is.
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
		return nil, errNoServerName
	}
	for _, exact := range []bool{true, false} {
		for _, e := range fc.certs {
			for _, n := range e.names {
				if (exact && n == name) || (!exact && n != name && access.CertNameMatches(n, name)) {
					return fc.get(e), nil
				}
			}
		}
	}
	return nil, fmt.Errorf("certs: no certificate for %q", name)
}
