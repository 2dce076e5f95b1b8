package store

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// seenEvery is how often, at most, a session's last-seen time is written.
const seenEvery = time.Minute

// seenMax bounds the sessions whose last write is remembered; beyond it the
// entries older than seenEvery are dropped.
const seenMax = 100_000

// seenThrottle remembers when each session's last-seen time was written,
// so that a busy session costs one write a minute, not one per request.
type seenThrottle struct {
	mu   sync.Mutex
	last map[string]time.Time // nonce → time of the last write
}

// due reports whether nonce's last-seen time should be written at now, and
// if so notes it as written.
func (s *seenThrottle) due(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = make(map[string]time.Time)
	}
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

// TouchSession records a request of the session nonce from ip (none when
// not valid) with userAgent (SessionSeen), unless it recorded one less than
// a minute ago. The write is not abandoned when ctx is cancelled (the
// request ended). A request that is not due costs no allocation.
func (db *DB) TouchSession(ctx context.Context, nonce string, ip netip.Addr, userAgent string, now time.Time) error {
	if !db.seen.due(nonce, now) {
		return nil
	}
	addr := ""
	if ip.IsValid() {
		addr = ip.String()
	}
	return db.SessionSeen(context.WithoutCancel(ctx), nonce, addr, userAgent, now)
}
