package login

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/policy"
	"github.com/gatehouse-dev/gatehouse/token"
)

// AppRevocations is implemented by a Store that knows the per-app
// revocations (store.DB does). Without it, no app is ever revoked.
type AppRevocations interface {
	// AppRevokedAt returns the latest hard and soft revocation times of the
	// app with audience aud (zero when never revoked).
	AppRevokedAt(aud string) (hard, soft time.Time)
	// AppIssuedAt returns the iat to give an app token for aud minted at
	// now, so that no earlier app revocation refuses it.
	AppIssuedAt(aud string, now time.Time) int64
}

// sessionPredatesAppRevocation reports whether the global session s was
// created before the latest hard revocation of app: such a session may not
// mint tokens for the app, so the user signs in with the IdP again.
func (h *Handler) sessionPredatesAppRevocation(r *http.Request, app *policy.App, s session) bool {
	rev, ok := h.o.Store.(AppRevocations)
	if !ok || app == nil {
		return false
	}
	hard, _ := rev.AppRevokedAt(app.AUD)
	if hard.IsZero() {
		return false
	}
	stored, err := h.o.Store.Session(r.Context(), s.Nonce)
	return err != nil || stored.CreatedAt.Before(hard)
}

// appClaims returns the claims of an app token minted at now, with an iat
// that no earlier revocation of the app refuses.
func (h *Handler) appClaims(id token.Identity, nonce string, app *policy.App, now time.Time, ttl time.Duration) *token.Claims {
	c := token.AppClaims(id, nonce, app.AUD, now, ttl)
	if rev, ok := h.o.Store.(AppRevocations); ok {
		c.IssuedAt = rev.AppIssuedAt(app.AUD, now)
	}
	return c
}
