package login

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Signing out at an OpenID provider (RP-initiated logout) sends the
// browser to the provider's end_session_endpoint with a random state; the
// provider sends it back to PathSignedOut with that state, which names the
// pending sign-out kept in the StateStore (any node may see the browser
// back): the provider's name for the page and where to go next. A state is single-use and expires after
// signOutTTL; an unknown one just shows the signed-out page.
const (
	signOutTTL  = 10 * time.Minute
	maxSignOuts = 10000
)

// signOut is one sign-out waiting for its provider to send the browser back.
type signOut struct {
	IdPName string // the provider's name, for the page
	Back    string // a sanitized team-domain path to go to next, or ""
	SignIn  string // the page's "Sign in again" link
	Expires time.Time
}

func (so signOut) expiry() time.Time { return so.Expires }

// idpSignOutURL is where to send the browser to end its session at the
// provider the global session s came from, when that provider signs out
// with Gatehouse (LogoutAtIdP); back is the sanitized path to continue to
// afterwards. It reports false when the sign-out stays local.
func (h *Handler) idpSignOutURL(r *http.Request, s session, back string) (string, bool) {
	p, ok := h.provider(s.Identity.IdP.ID)
	if !ok || !p.LogoutAtIdP || p.Kind != KindOIDC || p.OIDC == nil {
		return "", false
	}
	ctx := r.Context()
	idps, err := h.o.IdPSessions.IdPSession(ctx, s.Nonce)
	hint := ""
	if err == nil {
		hint = idps.IDToken
	}
	now := h.now()
	state := newState()
	so := signOut{IdPName: p.Name, Back: back, SignIn: h.signInAgainURL(r.FormValue(paramHost)), Expires: now.Add(signOutTTL)}
	// Anyone holding a session cookie can fill the pending sign-outs, so
	// a full table must not keep the provider's session alive: the browser
	// still goes to the provider, and its return shows the plain
	// signed-out page.
	stored, err := h.signOuts.put(ctx, state, so, now)
	switch {
	case err != nil:
		h.o.Log.WarnContext(ctx, "login: keep a pending sign-out; the return from the provider shows the plain page", "idp", p.ID, "err", err)
	case !stored:
		h.o.Log.WarnContext(ctx, "login: too many pending sign-outs; the return from the provider shows the plain page", "idp", p.ID)
	}
	u, err := p.OIDC.EndSessionURL(ctx, hint, h.o.TeamURL+access.PathSignedOut, state)
	if err != nil || u == "" {
		if stored {
			if _, _, err := h.signOuts.take(ctx, state, now); err != nil {
				h.o.Log.WarnContext(ctx, "login: drop a pending sign-out", "err", err)
			}
		}
		h.o.Log.WarnContext(ctx, "login: cannot sign out at the identity provider; signed out of Gatehouse only",
			"idp", p.ID, "err", err, "end_session_endpoint", u != "")
		return "", false
	}
	if hint != "" {
		// The ID token was kept for this hint only; a second sign-out of
		// the same session goes with client_id alone.
		idps.IDToken = ""
		if err := h.o.IdPSessions.SaveIdPSession(ctx, s.Nonce, idps); err != nil {
			h.o.Log.WarnContext(ctx, "login: forget the ID token of a signed-out session", "err", err)
		}
	}
	return u, true
}

// signedOut serves PathSignedOut, where a provider sends the browser back
// after signing it out: the signed-out page, or the sign-in page that
// "Use another account" asked for.
func (h *Handler) signedOut(w http.ResponseWriter, r *http.Request) error {
	data := signedOutData{SignInURL: access.PathLauncher}
	so, ok, err := h.signOuts.take(r.Context(), r.URL.Query().Get(paramState), h.now())
	if err != nil {
		// The sign-out itself is done: show the plain page.
		h.o.Log.WarnContext(r.Context(), "login: pending sign-out", "err", err)
	}
	if ok {
		if so.Back != "" {
			if clean, err := web.CleanPath(so.Back); err == nil {
				http.Redirect(w, r, clean, http.StatusSeeOther)
				return nil
			}
		}
		data.IdPName, data.SignInURL = so.IdPName, so.SignIn
	}
	h.o.Pages.Render(w, http.StatusOK, pages.PageSignedOut, "Signed out", data)
	return nil
}
