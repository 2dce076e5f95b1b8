// Package certs provides Gatehouse's TLS: certificates obtained and renewed
// over ACME by certmagic (mode "acme"), loaded from PEM files and reloaded
// when they change (mode "files"), or none (mode "off"). It also answers the
// plain-HTTP listener: ACME HTTP-01 challenges and a redirect to HTTPS.
//
// The caller owns the listeners and the servers; a Manager gives it the
// HTTPS listener's tls.Config and the HTTP listener's handler.
package certs

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/certmagic"
)

// The modes of Options.Mode.
const (
	ModeACME  = "acme"
	ModeFiles = "files"
	ModeOff   = "off"
)

// Options configure a Manager.
type Options struct {
	Mode string // ModeACME, ModeFiles or ModeOff

	// Names are the host names Gatehouse answers for: the team domain and
	// every app domain, as configured (any case, ports and wildcards
	// allowed). Mode "acme" obtains certificates for the concrete ones;
	// the HTTP listener redirects all of them to HTTPS. SetNames changes
	// them later.
	Names []string

	// HTTPAddr and HTTPSAddr are the addresses the caller's HTTP and HTTPS
	// listeners are bound to. The challenge solvers answer on them and the
	// redirect names HTTPSAddr's port unless it is 443.
	HTTPAddr, HTTPSAddr string

	// Mode "acme".
	Storage    certmagic.Storage // where certificates, keys and the account live; required
	CA         string            // ACME directory URL; Let's Encrypt when empty
	Root       string            // PEM file of a root to trust for the ACME directory (private CAs); none when empty
	Email      string            // ACME account email
	Challenges []string          // "http-01", "tls-alpn-01"; both when empty

	// Mode "files": every certificate; any that fails to load fails New.
	Files []File

	// Log receives the TLS logs, certmagic's included; slog.Default when nil.
	Log *slog.Logger
	// OnStatus, when set, is told every certificate obtained, renewed,
	// loaded or reloaded, and every failure to do so.
	OnStatus func(Status)
	// Now is the clock of Status.At and of the file checks; time.Now when nil.
	Now func() time.Time
}

// File is one certificate of mode "files".
type File struct {
	Label    string   // names the entry in errors, e.g. "tls.certs[1]"
	Domains  []string // names it serves, possibly "*.domain"
	CertFile string   // PEM certificate chain
	KeyFile  string   // PEM private key
}

// Status is news about one name's certificate, for Options.OnStatus.
type Status struct {
	Name  string // the managed name (mode "acme") or the domain as listed in File.Domains
	At    time.Time
	Error string // empty when obtained, renewed or (re)loaded; else what failed, e.g. "renewal: …"
}

// Manager serves the certificates of one mode. Its methods are safe for
// concurrent use.
type Manager struct {
	log      *slog.Logger
	now      func() time.Time
	onStatus func(Status)
	config   *tls.Config // nil under mode "off"
	redirect *redirect
	acme     *acmeCerts // mode "acme" only
	files    *fileCerts // mode "files" only
}

// New sets up the certificates of o.Mode. Mode "files" loads every file
// now; mode "acme" obtains nothing until Start.
func New(o Options) (*Manager, error) {
	m := &Manager{log: o.Log, now: o.Now, onStatus: o.OnStatus}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	_, httpsPort, _ := net.SplitHostPort(o.HTTPSAddr)
	m.redirect = newRedirect(httpsPort, o.Names)
	switch o.Mode {
	case ModeOff:
		return m, nil
	case ModeFiles:
		fc, err := newFileCerts(o.Files, m.log, m.now, m.status)
		if err != nil {
			return nil, err
		}
		m.files = fc
		m.config = baseTLSConfig(fc.GetCertificate, "h2", "http/1.1")
		return m, nil
	case ModeACME:
		ac, err := newACME(o, m.log, m.status)
		if err != nil {
			return nil, err
		}
		m.acme = ac
		m.config = baseTLSConfig(ac.cfg.GetCertificate, "h2", "http/1.1", "acme-tls/1")
		return m, nil
	}
	return nil, fmt.Errorf("certs: unknown mode %q", o.Mode)
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

// TLSConfig is the configuration of the HTTPS listener, nil under mode
// "off". Under mode "acme" it also answers TLS-ALPN-01 challenges. An
// unknown server name fails the handshake; nothing is obtained on demand.
func (m *Manager) TLSConfig() *tls.Config { return m.config }

// HTTPHandler answers the plain-HTTP listener: ACME HTTP-01 challenges
// under mode "acme", then a 308 to the same URL over HTTPS for the names
// served and 404 for anything else (including challenges no pending order
// claimed).
func (m *Manager) HTTPHandler() http.Handler {
	if m.acme != nil {
		return m.acme.issuer.HTTPChallengeHandler(m.redirect)
	}
	return m.redirect
}

// Start begins obtaining and renewing the certificates of mode "acme" in
// the background, until ctx is done or Close; start-up does not wait for
// the CA. The other modes have nothing to start.
func (m *Manager) Start(ctx context.Context) error {
	if m.acme == nil {
		return nil
	}
	return m.acme.start(ctx)
}

// SetNames replaces Options.Names, for a configuration reload. Under mode
// "acme" a new concrete name gets its certificate (from storage or the CA,
// in the background) and a name no longer listed stops being managed and
// served. The certificates of mode "files" stay as loaded.
func (m *Manager) SetNames(names []string) error {
	m.redirect.setNames(names)
	if m.acme == nil {
		return nil
	}
	return m.acme.setNames(names)
}

// Managed lists the names whose certificates are managed: the concrete
// names of mode "acme" (obtained or not yet) and the domains of mode
// "files", sorted.
func (m *Manager) Managed() []string {
	switch {
	case m.acme != nil:
		return m.acme.managed()
	case m.files != nil:
		return m.files.domains()
	}
	return nil
}

// NotAfter is the expiry of the certificate serving name (as Managed lists
// it), zero when there is none.
func (m *Manager) NotAfter(name string) time.Time {
	switch {
	case m.acme != nil:
		return m.acme.notAfter(name)
	case m.files != nil:
		return m.files.notAfter(name)
	}
	return time.Time{}
}

// Close stops the certificate maintenance of mode "acme".
func (m *Manager) Close() {
	if m.acme != nil {
		m.acme.stop()
	}
}

// status tells OnStatus about name's certificate: loaded, obtained or
// renewed when failure is empty, else what failed.
func (m *Manager) status(name, failure string) {
	if m.onStatus != nil {
		m.onStatus(Status{Name: name, At: m.now(), Error: failure})
	}
}
