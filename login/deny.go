package login

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// denied answers a sign-in the app's policies refuse: a 302 to the app's
// deny_url when it has one, else 403 with its deny_message (or the
// standard text).
func (h *Handler) denied(w http.ResponseWriter, r *http.Request, app *access.App) {
	if app.DenyURL != "" {
		http.Redirect(w, r, app.DenyURL, http.StatusFound)
		return
	}
	msg := app.DenyMessage
	if msg == "" {
		msg = fmt.Sprintf("You don't have access to %s.", app.Name)
	}
	h.o.Pages.Error(w, r, http.StatusForbidden, "Access denied", msg)
}

// bind gives claims a binding for an app with binding_cookie: it returns
// the random CF_Binding value the protected host sets and puts its hex
// SHA-256 in the binding claim. "" when the app uses no binding cookie.
func bind(app *access.App, claims *token.Claims) string {
	if !app.Cookie.Binding {
		return ""
	}
	v := token.RandomHex(16)
	sum := sha256.Sum256([]byte(v))
	claims.Binding = hex.EncodeToString(sum[:])
	return v
}
