package login

import "github.com/gatehouse-dev/gatehouse/access"

// mayReuse reports whether the global session s may be used for app without
// signing in with the IdP again: the app accepts its sign-in method and no
// hard revocation of the app is newer than it. Whether a policy admits it is
// decided by the grant; a refusal there is a deny page, not a new sign-in.
func (h *Handler) mayReuse(app *access.App, s *session) bool {
	return app == nil || (app.AllowsIdP(s.Identity.IdP.ID) && !access.SessionPredates(s, h.o.Store.AppRevocation(app.AUD)))
}
