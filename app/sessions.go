package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/geoip"
	"github.com/gatehouse-dev/gatehouse/store"
)

// seenEvery is how often, at most, a session's last-seen time is written.
const seenEvery = time.Minute

// seenMax bounds the sessions whose last write is remembered; beyond it the
// entries older than seenEvery are dropped.
const seenMax = 100_000

// seenRecorder writes the last-seen time, address and User-Agent of global
// sessions, at most once every seenEvery per session, so that the
// self-service sessions page can show them without a write per request.
type seenRecorder struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	last map[string]time.Time // nonce → time of the last write
}

func newSeenRecorder(db *store.DB, log *slog.Logger, now func() time.Time) *seenRecorder {
	return &seenRecorder{db: db, log: log, now: now, last: make(map[string]time.Time)}
}

// seen records a request of the session nonce from ip, unless one was
// written less than seenEvery ago. A failed write is logged; the request
// goes on.
func (s *seenRecorder) seen(r *http.Request, nonce string, ip netip.Addr) {
	now := s.now()
	if !s.due(nonce, now) {
		return
	}
	addr := ""
	if ip.IsValid() {
		addr = ip.String()
	}
	if err := s.db.SessionSeen(context.WithoutCancel(r.Context()), nonce, addr, r.UserAgent(), now); err != nil {
		s.log.Warn("record session last seen", "err", err)
	}
}

// due reports whether nonce's last-seen time should be written at now, and
// if so notes it as written.
func (s *seenRecorder) due(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.last[nonce]; ok && now.Sub(t) < seenEvery && !now.Before(t) {
		return false
	}
	if len(s.last) >= seenMax {
		for k, t := range s.last {
			if now.Sub(t) >= seenEvery {
				delete(s.last, k)
			}
		}
		if len(s.last) >= seenMax {
			clear(s.last)
		}
	}
	s.last[nonce] = now
	return true
}

// openGeoIP opens the [geoip] country sources of cfg (restart to change).
func openGeoIP(cfg *config.Config) (*geoip.Resolver, error) {
	trusted, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return nil, err
	}
	r, err := geoip.Open(geoip.Options{Database: cfg.GeoIP.Database, CountryHeader: cfg.GeoIP.CountryHeader, Trusted: trusted})
	if err != nil {
		return nil, fmt.Errorf("app: geoip.database: %w", err)
	}
	return r, nil
}
