package proxy

import (
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/token"
)

// maxVerified bounds the verified-token cache; when full it starts over.
const maxVerified = 10000

// verifiedKey names one successful verification: the same token for the
// same audience under the same keyring verifies the same way until it
// expires. A new keyring (rotation, reload) starts fresh entries.
type verifiedKey struct {
	keys *token.Keyring
	aud  string
	raw  string
}

// verifiedCache remembers the claims of app tokens whose RS256 signature
// already checked out, so a busy page does not pay for an RSA verification
// on every request. Revocation and the per-request policy parts are still
// checked on every request; only the signature and claim checks are cached.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[verifiedKey]*token.Claims
}

// get returns the cached claims for k if they have not expired at now.
// The claims are shared: callers must not modify them.
func (c *verifiedCache) get(k verifiedKey, now time.Time) *token.Claims {
	claims := c.lookup(k)
	if claims == nil || now.Unix() >= claims.ExpiresAt {
		return nil
	}
	return claims
}

// lookup returns the cached claims for k, expired or not (for the cache of
// expired tokens' checks, whose expiry is the point).
func (c *verifiedCache) lookup(k verifiedKey) *token.Claims {
	c.mu.RLock()
	claims := c.m[k]
	c.mu.RUnlock()
	return claims
}

// put remembers claims for k.
func (c *verifiedCache) put(k verifiedKey, claims *token.Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerified {
		c.m = make(map[verifiedKey]*token.Claims)
	}
	c.m[k] = claims
}
