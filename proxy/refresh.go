package proxy

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// refreshed is a token minted by a silent refresh, remembered so that the
// requests that follow with the same expired token reuse it.
type refreshed struct {
	claims     *token.Claims
	raw        string
	sessionEnd int64 // Unix seconds: the cookie's end
	until      time.Time
}

// refreshKey names the refreshes of one session for one app under one
// keyring.
type refreshKey struct {
	keys  *token.Keyring
	aud   string
	nonce string
}

// refreshMemo is how long a refreshed token is reused for the requests that
// still carry the expired one (a burst of fetches sent before the browser
// stored the new cookie): one RSA signature per session and app per memo.
const refreshMemo = 30 * time.Second

// maxRefreshed bounds the memo; when full it starts over.
const maxRefreshed = 10000

// refreshCache is the memo of silent refreshes.
type refreshCache struct {
	mu sync.Mutex
	m  map[refreshKey]refreshed
}

func (c *refreshCache) get(k refreshKey, now time.Time) (refreshed, bool) {
	c.mu.Lock()
	r, ok := c.m[k]
	c.mu.Unlock()
	if !ok || !now.Before(r.until) || now.Unix() >= r.claims.ExpiresAt {
		return refreshed{}, false
	}
	return r, true
}

func (c *refreshCache) put(k refreshKey, r refreshed) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxRefreshed {
		c.m = make(map[refreshKey]refreshed)
	}
	c.m[k] = r
	c.mu.Unlock()
}

// refresh mints a fresh app token for app from the global session of raw,
// an expired or soft-revoked app token that is otherwise genuine (signature,
// issuer, audience, type), when access's grant rule still lets the session
// have one from client from. A token refreshed for the same session and app within
// refreshMemo is reused when no revocation refuses it; the per-request
// policy check still runs on every request.
func (h *Handler) refresh(ctx context.Context, raw string, app *access.App, from access.Client, now time.Time) (refreshed, bool) {
	keys := h.o.Keys()
	if raw == "" || keys == nil {
		return refreshed{}, false
	}
	// The signature check of the expired token is remembered like that of
	// a valid one, so that a burst carrying it pays for one RSA check.
	vk := verifiedKey{keys: keys, aud: app.AUD, raw: raw}
	old := h.expired.lookup(vk)
	if old == nil {
		var err error
		if old, err = keys.VerifyExpired(raw, app.AUD, token.TypeApp, now); err != nil {
			return refreshed{}, false
		}
		h.expired.put(vk, old)
	}
	if old.IdentityNonce == "" || h.o.Store.SessionRevoked(old.IdentityNonce) {
		return refreshed{}, false
	}
	rev := h.o.Store.AppRevocation(app.AUD)
	k := refreshKey{keys: keys, aud: app.AUD, nonce: old.IdentityNonce}
	if m, ok := h.refreshed.get(k, now); ok && m.claims.Binding == old.Binding {
		if hard, soft := rev.Refuses(m.claims.IssuedAt); !hard && !soft {
			return m, true
		}
	}
	sess, err := h.o.Store.Session(ctx, old.IdentityNonce)
	if err != nil {
		return refreshed{}, false
	}
	id := sess.Identity
	g, err := app.GrantSession(&sess, access.SubjectOf(id, from), rev, now)
	if err != nil {
		h.log.Debug("proxy: refresh refused", "app", app.Name, "email", id.Email, "err", err)
		return refreshed{}, false
	}
	c := token.AppClaims(id, sess.Nonce, app.AUD, g)
	c.Binding = old.Binding // the browser keeps its CF_Binding cookie
	fresh, err := keys.Sign(c)
	if err != nil {
		h.log.Warn("proxy: sign refreshed app token", "app", app.Name, "err", err)
		return refreshed{}, false
	}
	h.log.Debug("proxy: refreshed app token", "app", app.Name, "email", id.Email)
	m := refreshed{claims: c, raw: fresh, sessionEnd: sess.ExpiresAt.Unix(), until: now.Add(refreshMemo)}
	h.refreshed.put(k, m)
	return m, true
}

// replaceCookie sets the value of cookie name in the Cookie header of hdr,
// adding it when missing, and keeps the other cookies in order.
func replaceCookie(hdr http.Header, name, value string) {
	var kept []string
	for _, line := range hdr["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if k, _, _ := strings.Cut(part, "="); k == name {
				continue
			}
			kept = append(kept, part)
		}
	}
	kept = append(kept, name+"="+value)
	hdr["Cookie"] = []string{strings.Join(kept, "; ")}
}
