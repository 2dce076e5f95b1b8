package login

import (
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// idpTypeOIDC is the identity's idp.type after an OIDC sign-in.
const idpTypeOIDC = "oidc"

// oidcStart sends the browser to the OpenID provider with a fresh state,
// nonce and PKCE verifier.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request, t target, p Provider) error {
	if p.OIDC == nil {
		return fmt.Errorf("login: provider %q has no OIDC connector", p.ID)
	}
	nonce := token.RandomHex(16)
	verifier := oauth2.GenerateVerifier()
	state, err := h.newPending(r.Context(), t, p, pending{Verifier: verifier, Nonce: nonce, Browser: h.browserBinding(w, r)})
	if err != nil {
		return err
	}
	u, err := p.OIDC.AuthCodeURL(r.Context(), state, nonce, verifier)
	if err != nil {
		if _, _, terr := h.pending.take(r.Context(), state, h.now()); terr != nil {
			h.o.Log.WarnContext(r.Context(), "login: drop a pending sign-in", "err", terr)
		}
		return h.fail(w, r, p, &t.flow, t.appName(), "", unreachable(p, err))
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// oidcCallback completes an OIDC sign-in at the redirect URI.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pend, ok, err := h.pending.take(r.Context(), q.Get(paramState), h.now())
	if err != nil {
		return err
	}
	if !ok {
		return h.fail(w, r, Provider{}, nil, "", "", unknownState)
	}
	p, ok := h.provider(pend.Provider)
	if !ok || p.Kind != KindOIDC || p.OIDC == nil {
		return h.fail(w, r, Provider{}, &pend.Flow, "", "", unknownState)
	}
	if !sameBrowser(r, pend.Browser) {
		return h.fail(w, r, p, &pend.Flow, "", "", signInFailure{
			Status: http.StatusBadRequest, Title: "Sign-in expired",
			Msg:    "This sign-in was started in another browser or its cookie has expired. Please sign in again.",
			Reason: "state not bound to this browser",
		})
	}
	id, idps, err := p.OIDC.Exchange(r.Context(), q, pend.Verifier, pend.Nonce)
	if err != nil {
		return h.fail(w, r, p, &pend.Flow, "", id.Email, oidcFailure(p, q.Get("error"), err))
	}
	return h.completeSignIn(w, r, p, pend.Flow, idpTypeOIDC, id, idps)
}

// oidcFailure describes a failed OIDC exchange.
func oidcFailure(p Provider, idpError string, err error) signInFailure {
	f := signInFailure{Status: http.StatusUnauthorized, Title: "Sign-in failed"}
	switch {
	case errors.Is(err, access.ErrUnreachable):
		return unreachable(p, err)
	case errors.Is(err, access.ErrAccessDenied):
		return refusedBy(p, idpError)
	case errors.Is(err, access.ErrUnverifiedEmail):
		f.Msg = fmt.Sprintf("Your email address is not verified at %s.", p.Name)
		f.Reason = "oidc: email not verified"
	case errors.Is(err, access.ErrNoEmail):
		f.Msg = fmt.Sprintf("%s did not send an email address.", p.Name)
		f.Reason = "oidc: no email claim"
	case errors.Is(err, access.ErrNonceMismatch):
		f.Msg = "The sign-in response does not match this sign-in. Please sign in again."
		f.Reason = "oidc: nonce mismatch"
	case errors.Is(err, access.ErrIssuerMismatch):
		f.Msg = "The sign-in response came from the wrong issuer."
		f.Reason = "oidc: iss mismatch"
	default:
		f.Msg = fmt.Sprintf("The sign-in response from %s could not be verified.", p.Name)
		f.Reason = fmt.Sprintf("oidc: %v", err)
	}
	return f
}
