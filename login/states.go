package login

import (
	"sync"
	"time"
)

// expirer is a value kept under a one-time state until it expires.
type expirer interface{ expiry() time.Time }

// states keeps values by random, single-use state (pending sign-ins,
// pending sign-outs), at most max of them; expired ones are purged as new
// ones arrive.
type states[T expirer] struct {
	mu  sync.Mutex
	max int
	m   map[string]T
}

func newStates[T expirer](max int) *states[T] {
	return &states[T]{max: max, m: make(map[string]T)}
}

// put stores v under state, purging expired entries; false when full.
func (s *states[T]) put(state string, v T, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, old := range s.m {
		if !now.Before(old.expiry()) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= s.max {
		return false
	}
	s.m[state] = v
	return true
}

// take removes and returns the value of state, and whether it is there and
// unexpired at now.
func (s *states[T]) take(state string, now time.Time) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[state]
	if !ok {
		var zero T
		return zero, false
	}
	delete(s.m, state)
	return v, now.Before(v.expiry())
}
