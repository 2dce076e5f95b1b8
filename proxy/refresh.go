package proxy

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// defaultAppSession is the app token lifetime when neither the matching
// policy nor the app sets one (reference §4.1).
const defaultAppSession = 24 * time.Hour

// refresh mints a fresh app token for app from the global session of raw,
// an expired or soft-revoked app token that is otherwise genuine (signature,
// issuer, audience, type). It refuses when the session is unknown, revoked,
// expired or older than a hard revocation of the app, or when the stored
// identity no longer passes the app's policies from ip.
func (h *Handler) refresh(ctx context.Context, raw string, app *access.App, ip netip.Addr, now time.Time) (*token.Claims, string, bool) {
	keys := h.o.Keys()
	if raw == "" || keys == nil {
		return nil, "", false
	}
	old, err := keys.VerifyExpired(raw, app.AUD, token.TypeApp, now)
	if err != nil || old.IdentityNonce == "" || h.o.Store.SessionRevoked(old.IdentityNonce) {
		return nil, "", false
	}
	sess, err := h.o.Store.Session(ctx, old.IdentityNonce)
	if err != nil || !sess.Active(now) {
		return nil, "", false
	}
	if hard, _ := h.o.Store.AppRevokedAt(app.AUD); !hard.IsZero() && sess.CreatedAt.Before(hard) {
		return nil, "", false
	}
	id := sess.Identity
	if len(app.IdPs) > 0 && !slices.Contains(app.IdPs, id.IdP.ID) {
		return nil, "", false // the app no longer accepts this sign-in method
	}
	res := access.Evaluate(app.Policies, access.Subject{
		Email: id.Email, Groups: id.Groups, IdP: id.IdP.ID, Claims: id.Custom, IP: ip,
	})
	if !res.Allowed() || res.Decision == access.ServiceAuth {
		return nil, "", false
	}
	ttl := app.SessionDuration
	if res.Policy != nil && res.Policy.SessionDuration > 0 {
		ttl = res.Policy.SessionDuration
	}
	if ttl <= 0 {
		ttl = defaultAppSession
	}
	c := token.AppClaims(id, sess.Nonce, app.AUD, now, ttl)
	c.IssuedAt = h.o.Store.AppIssuedAt(app.AUD, now)
	c.Binding = old.Binding // the browser keeps its CF_Binding cookie
	fresh, err := keys.Sign(c)
	if err != nil {
		h.log.Warn("proxy: sign refreshed app token", "app", app.Name, "err", err)
		return nil, "", false
	}
	h.log.Debug("proxy: refreshed app token", "app", app.Name, "email", id.Email)
	return c, fresh, true
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
