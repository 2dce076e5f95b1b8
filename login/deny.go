package login

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
)

// denied answers a sign-in the app's policies refuse: a 302 to the app's
// deny_url when it has one, else 403 with its deny_message (or the
// standard text), who is signed in, and a way to use another account:
// signing out and coming back to this app's sign-in.
//
// A refused sign-in keeps its global session: the user is still signed in
// to the team domain and to the apps that do admit them.
func (h *Handler) denied(w http.ResponseWriter, r *http.Request, t target, s session) {
	app := t.App
	if app.DenyURL != "" {
		http.Redirect(w, r, app.DenyURL, http.StatusFound)
		return
	}
	msg := app.DenyMessage
	if msg == "" {
		msg = fmt.Sprintf("You don't have access to %s.", app.Name)
	}
	h.o.Pages.Render(w, http.StatusForbidden, pages.PageError, "Access denied", pages.ErrorData{
		Message:    msg,
		SignedInAs: s.Identity.Email,
		SwitchURL:  access.PathLogout,
		SwitchTo:   t.loginURL(),
	})
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
