package app

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/admin"
)

// systemStatus records what the admin overview's System panel and the
// certificate expiry metric report: the state of each certificate (fed by
// certmagic's events or the "files" loader) and the last config reload.
// The zero value is ready to use; it is safe for concurrent use.
type systemStatus struct {
	mu     sync.Mutex
	mode   string                // tls.mode
	certs  map[string]*certState // by domain
	reload admin.ReloadStatus
	// expiry looks up the NotAfter of the certificate serving domain (zero
	// when there is none); set by the TLS mode, nil when TLS is off.
	expiry func(domain string) time.Time
}

// certState is the recorded state of one domain's certificate.
type certState struct {
	lastError   string
	lastErrorAt time.Time
	lastOKAt    time.Time
}

// setTLS records the TLS mode, the domains it serves certificates for and
// how to find each one's expiry. A domain no longer listed is forgotten
// (a reload removed its app); the others keep their state.
func (s *systemStatus) setTLS(mode string, domains []string, expiry func(string) time.Time) {
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
func (s *systemStatus) cert(domain string) *certState {
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

// certOK records a successful obtain, renewal or load of domain's
// certificate.
func (s *systemStatus) certOK(domain string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cert(domain).lastOKAt = at
}

// certFailed records a failure to obtain, renew or load domain's
// certificate; the current one, if any, keeps serving.
func (s *systemStatus) certFailed(domain, msg string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cert(domain)
	c.lastError, c.lastErrorAt = msg, at
}

// reloaded records the result of a configuration reload.
func (s *systemStatus) reloaded(at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reload = admin.ReloadStatus{At: at, OK: err == nil}
	if err != nil {
		s.reload.Error = err.Error()
	}
}

// snapshot is the status for the admin overview, certificates sorted by
// domain.
func (s *systemStatus) snapshot() admin.SystemStatus {
	s.mu.Lock()
	expiry := s.expiry
	out := admin.SystemStatus{TLSMode: s.mode, Reload: s.reload}
	for _, d := range slices.Sorted(maps.Keys(s.certs)) {
		c := s.certs[d]
		out.Certs = append(out.Certs, admin.CertStatus{Domain: d, LastError: c.lastError, LastErrorAt: c.lastErrorAt, LastOKAt: c.lastOKAt})
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

// expiries maps each domain with a certificate to its NotAfter, for the
// gatehouse_certificate_expiry_timestamp_seconds metric.
func (s *systemStatus) expiries() map[string]time.Time {
	out := map[string]time.Time{}
	for _, c := range s.snapshot().Certs {
		if !c.NotAfter.IsZero() {
			out[c.Domain] = c.NotAfter
		}
	}
	return out
}
