// Package limit holds the in-memory limits on what a stranger can trigger
// (PIN emails, wrong codes, sign-in requests), keyed by an address or a
// client IP. The packages that enforce limits declare the small interface
// they need; a shared store can implement it for several nodes.
package limit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys bounds the keys a Keyed remembers; past it, keys whose bucket is
// full again are dropped, and if none is, the oldest half.
const maxKeys = 100_000

// Keyed allows n events per window for each key, as a token bucket (a burst
// of n, refilled evenly over window).
type Keyed struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	m      map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limit of n events per window for each key.
func New(n int, window time.Duration) *Keyed {
	return &Keyed{n: max(n, 1), window: window, m: make(map[string]*bucket)}
}

// Take counts one event for key at now. It reports whether the event is
// within the limit and, when it is not, how long until it would be.
func (k *Keyed) Take(key string, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, now)
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, ceilSecond(d)
	}
	return true, 0
}

// Allowed reports, without counting anything, whether one more event for
// key is within the limit at now and, when not, how long until it is.
func (k *Keyed) Allowed(key string, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.m[key]
	if !ok {
		return true, 0
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return true, 0
	}
	perToken := k.window / time.Duration(k.n)
	return false, ceilSecond(time.Duration(math.Ceil((1 - tokens) * float64(perToken))))
}

// get returns key's bucket, creating it; callers hold k.mu.
func (k *Keyed) get(key string, now time.Time) *bucket {
	b, ok := k.m[key]
	if !ok {
		if len(k.m) >= maxKeys {
			k.prune(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(k.window/time.Duration(k.n)), k.n)}
		k.m[key] = b
	}
	b.seen = now
	return b
}

// prune drops the buckets that are full again (they limit nothing), and the
// least recently seen half when that frees nothing.
func (k *Keyed) prune(now time.Time) {
	for key, b := range k.m {
		if b.lim.TokensAt(now) >= float64(k.n) {
			delete(k.m, key)
		}
	}
	if len(k.m) < maxKeys {
		return
	}
	cut := now.Add(-k.window / 2)
	for key, b := range k.m {
		if b.seen.Before(cut) {
			delete(k.m, key)
		}
	}
}

// ceilSecond rounds d up to a whole second (Retry-After has seconds).
func ceilSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
