package login

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// sessionPredatesAppRevocation reports whether the global session s was
// created before the latest hard revocation of app: such a session may not
// mint tokens for the app, so the user signs in with the IdP again.
func (h *Handler) sessionPredatesAppRevocation(r *http.Request, app *access.App, s session) bool {
	if app == nil {
		return false
	}
	hard, _ := h.o.Store.AppRevokedAt(app.AUD)
	if hard.IsZero() {
		return false
	}
	stored, err := h.o.Store.Session(r.Context(), s.Nonce)
	return err != nil || stored.CreatedAt.Before(hard)
}

// appClaims returns the claims of an app token minted at now, with an iat
// that no earlier revocation of the app refuses.
func (h *Handler) appClaims(id access.Identity, nonce string, app *access.App, now time.Time, ttl time.Duration) *token.Claims {
	c := token.AppClaims(id, nonce, app.AUD, now, ttl)
	c.IssuedAt = h.o.Store.AppIssuedAt(app.AUD, now)
	return c
}
