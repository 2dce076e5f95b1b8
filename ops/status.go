package ops

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Status records what the admin overview's System panel and the
// certificate expiry metric report: the state of each certificate (fed by
// the certificate manager) and the last configuration reload. The zero
// value is ready to use; it is safe for concurrent use.
type Status struct {
	mu     sync.Mutex
	mode   string                // tls.mode
	certs  map[string]*certState // by domain
	reload ReloadStatus
	// expiry looks up the NotAfter of the certificate serving domain (zero
	// when there is none); set by the TLS mode, nil when TLS is off.
	expiry func(domain string) time.Time
}

// The status types are access's.
type (
	SystemStatus = access.SystemStatus
	CertStatus   = access.CertStatus
	ReloadStatus = access.ReloadStatus
)

// certState is the recorded state of one domain's certificate.
type certState struct {
	lastError   string
	lastErrorAt time.Time
	lastOKAt    time.Time
}

// SetTLS records the TLS mode, the domains it serves certificates for and
// how to find each one's expiry. A domain no longer listed is forgotten
// (a reload removed its app); the others keep their state.
func (s *Status) SetTLS(mode string, domains []string, expiry func(string) time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = mode
	s.expiry = expiry
	for d := range s.certs {
		if !slices.Contains(domains, d) {
			delete(s.certs, d)
		}
	}
	for _, d := range domains {
		s.cert(d)
	}
}

// cert returns domain's state, creating it. Called with mu held.
func (s *Status) cert(domain string) *certState {
	if s.certs == nil {
		s.certs = map[string]*certState{}
	}
	c, ok := s.certs[domain]
	if !ok {
		c = &certState{}
		s.certs[domain] = c
	}
	return c
}

// CertOK records a successful obtain, renewal or load of domain's
// certificate.
func (s *Status) CertOK(domain string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cert(domain).lastOKAt = at
}

// CertFailed records a failure to obtain, renew or load domain's
// certificate; the current one, if any, keeps serving.
func (s *Status) CertFailed(domain, msg string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cert(domain)
	c.lastError, c.lastErrorAt = msg, at
}

// Reloaded records the result of a configuration reload.
func (s *Status) Reloaded(at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reload = ReloadStatus{At: at, OK: err == nil}
	if err != nil {
		s.reload.Error = err.Error()
	}
}

// Snapshot is the status for the admin overview, certificates sorted by
// domain.
func (s *Status) Snapshot() SystemStatus {
	s.mu.Lock()
	expiry := s.expiry
	out := SystemStatus{TLSMode: s.mode, Reload: s.reload}
	for _, d := range slices.Sorted(maps.Keys(s.certs)) {
		c := s.certs[d]
		out.Certs = append(out.Certs, CertStatus{Domain: d, LastError: c.lastError, LastErrorAt: c.lastErrorAt, LastOKAt: c.lastOKAt})
	}
	s.mu.Unlock()
	// The lookup may take the certificate cache's lock: not under ours.
	if expiry != nil {
		for i := range out.Certs {
			out.Certs[i].NotAfter = expiry(out.Certs[i].Domain)
		}
	}
	return out
}

// Expiries maps each domain with a certificate to its NotAfter, for the
// gatehouse_certificate_expiry_timestamp_seconds metric (see
// Metrics.SetCertExpiry).
func (s *Status) Expiries() map[string]time.Time {
	out := map[string]time.Time{}
	for _, c := range s.Snapshot().Certs {
		if !c.NotAfter.IsZero() {
			out[c.Domain] = c.NotAfter
		}
	}
	return out
}
