package proxy

import (
	"context"
	"sync"

	"github.com/gatehouse-dev/gatehouse/access"
)

// maxIdentities bounds the identity cache; when full it starts over.
const maxIdentities = 10000

// identityCache remembers the identity stored with each global session, so
// that every request can be judged by the app's current policies with every
// selector (groups, IdPs, claims, emails…) without a database read. A
// session's identity does not change after sign-in except through Forget,
// which a later change of the user's attributes calls.
type identityCache struct {
	mu  sync.RWMutex
	m   map[string]access.Identity
	gen uint64 // bumped by forget: a load begun before it is not kept
}

// get returns the identity of the session nonce, reading it through load on
// a miss.
func (c *identityCache) get(ctx context.Context, nonce string, load func(context.Context, string) (access.Session, error)) (access.Identity, error) {
	c.mu.RLock()
	id, ok := c.m[nonce]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	s, err := load(ctx, nonce)
	if err != nil {
		return access.Identity{}, err
	}
	c.mu.Lock()
	if c.gen == gen { // else a change of identities raced the load: serve it, keep nothing
		if c.m == nil || len(c.m) >= maxIdentities {
			c.m = make(map[string]access.Identity)
		}
		c.m[nonce] = s.Identity
	}
	c.mu.Unlock()
	return s.Identity, nil
}

// forget drops the cached identity of each session nonce.
func (c *identityCache) forget(nonces ...string) {
	c.mu.Lock()
	for _, n := range nonces {
		delete(c.m, n)
	}
	c.gen++
	c.mu.Unlock()
}
