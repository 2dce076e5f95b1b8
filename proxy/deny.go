package proxy

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// msgDenied is the standard text of a per-request policy refusal.
const msgDenied = "You do not have access to this application from here."

// deny answers a request the app's policies refuse: a 302 to the app's
// deny_url for navigations, else 403 with its deny_message (or the
// standard text).
func (h *Handler) deny(w http.ResponseWriter, r *http.Request, app *access.App) {
	if app.DenyURL != "" && !web.WantsJSON(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Location", app.DenyURL)
		w.WriteHeader(http.StatusFound)
		return
	}
	msg := app.DenyMessage
	if msg == "" {
		msg = msgDenied
	}
	h.fail(w, r, http.StatusForbidden, "Access denied", msg)
}
