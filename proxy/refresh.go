package proxy

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// refresh mints a fresh app token for app from the global session of raw,
// an expired or soft-revoked app token that is otherwise genuine (signature,
// issuer, audience, type), when access's grant rule still lets the session
// have one from ip.
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
	if err != nil {
		return nil, "", false
	}
	id := sess.Identity
	g, err := app.GrantSession(&sess, access.SubjectOf(id, ip), h.o.Store.AppRevocation(app.AUD), now)
	if err != nil {
		h.log.Debug("proxy: refresh refused", "app", app.Name, "email", id.Email, "err", err)
		return nil, "", false
	}
	c := token.AppClaims(id, sess.Nonce, app.AUD, g)
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
