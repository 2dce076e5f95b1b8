package login

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// session is a verified, unrevoked global session.
type session = access.Session

// globalSession returns the global session of r's CF_Authorization cookie,
// if it holds a valid org token whose session is not revoked. The stored
// session, not the token, says when the session ends: it is refused exactly
// at its end, with no clock-skew grace.
func (h *Handler) globalSession(r *http.Request) (session, bool) {
	s, ok := h.cookieSession(r)
	if !ok || h.o.Store.SessionRevoked(s.Nonce) || !s.Active(h.now()) {
		return session{}, false
	}
	if h.o.Seen != nil {
		h.o.Seen(r, s.Nonce, h.clientIP(r))
	}
	return s, true
}

// startSession creates a global session for a user who just signed in with
// provider p, sets its cookie and records the sign-in.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, email string, p Provider, idpType string) (session, error) {
	id := access.Identity{Email: email, IdP: access.IdP{ID: p.ID, Type: idpType}}
	if idpType == idpTypeOTP {
		id.AMR = []string{"otp"} // RFC 8176: a one-time password
	}
	return h.startIdentity(w, r, p, id)
}

// startIdentity is the one path from an established identity (email, name,
// groups, custom claims and idp as the provider gave them) to a global
// session: it fills in the user id, client IP and sign-in time, stores the
// session, sets its cookie and records the sign-in.
func (h *Handler) startIdentity(w http.ResponseWriter, r *http.Request, p Provider, id access.Identity) (session, error) {
	now := h.now()
	ctx := r.Context()
	email := id.Email
	userID, err := h.o.Store.SignInUser(ctx, email, p.ID, now)
	if errors.Is(err, access.ErrUserDeactivated) {
		h.audit(r, access.Event{Kind: access.EventSignInFailed, Email: email, IdP: p.ID, Detail: "account deactivated (SCIM)"})
		return session{}, &web.Error{Status: http.StatusForbidden, Title: "Account deactivated", Err: err,
			Msg: "Your account has been deactivated by your organization. Ask your administrator to reactivate it."}
	}
	if err != nil {
		return session{}, fmt.Errorf("login: sign in user: %w", err)
	}
	id.UserID = userID
	from := h.client(r)
	if from.IP.IsValid() {
		id.IP = from.IP.String()
	}
	id.Country = from.Country
	id.IssuedAt = now.Unix()
	s := access.Session{
		Nonce:     token.NewNonce(),
		Identity:  id,
		CreatedAt: now,
		ExpiresAt: now.Add(h.o.GlobalSession),
		UserAgent: r.UserAgent(),
	}
	if err := h.o.Store.CreateSession(ctx, s); err != nil {
		return session{}, fmt.Errorf("login: create session: %w", err)
	}
	// The stored session's identity is what every later check judges (with
	// the provisioned groups of the user, when a directory has them).
	if stored, err := h.o.Store.Session(ctx, s.Nonce); err == nil {
		s = stored
	}
	raw, err := h.o.Keys().Sign(token.OrgClaims(s, h.teamAud, now))
	if err != nil {
		return session{}, fmt.Errorf("login: sign session token: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     access.CookieAuthorization,
		Value:    raw,
		Path:     "/",
		MaxAge:   int(h.o.GlobalSession / time.Second),
		HttpOnly: true,
		Secure:   h.o.Secure,
		SameSite: http.SameSiteLaxMode,
	})
	h.audit(r, access.Event{Kind: access.EventSignIn, Email: email, IdP: p.ID, IP: s.Identity.IP})
	return s, nil
}

// getIdentity serves the identity of the global session as JSON.
func (h *Handler) getIdentity(w http.ResponseWriter, r *http.Request) error {
	s, ok := h.globalSession(r)
	if !ok {
		// get-identity is an API: JSON whatever the client accepts.
		web.WriteJSON(w, http.StatusUnauthorized, web.ErrorBody{Error: "No valid session.", Status: http.StatusUnauthorized})
		return nil
	}
	web.WriteJSON(w, http.StatusOK, s.Doc(access.AccountID(h.o.TeamDomain)))
	return nil
}

// signedOutData is the data of the signed_out page.
type signedOutData struct {
	SignInURL string
	IdPName   string // the provider that signed the browser out too, if any
}

// cookieSession returns the stored global session named by r's verified
// CF_Authorization cookie, revoked or not: a protected host's sign-out
// revokes the session before it sends the browser here.
func (h *Handler) cookieSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(access.CookieAuthorization)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	claims, err := h.o.Keys().Verify(c.Value, h.teamAud, token.TypeOrg, h.now())
	if err != nil || claims.IdentityNonce == "" {
		return session{}, false
	}
	stored, err := h.o.Store.Session(r.Context(), claims.IdentityNonce)
	if err != nil || !h.now().Before(stored.ExpiresAt) {
		return session{}, false
	}
	return stored, true
}

// logout ends the global session of the request, if any, and clears its
// cookie. When the session's provider signs out with Gatehouse, the
// browser goes on to the provider to end its session there too. A
// protected host's logout names itself in the host parameter, so that
// "Sign in again" returns to its app.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	s, known := h.cookieSession(r)
	if known && s.Active(h.now()) && !h.o.Store.SessionRevoked(s.Nonce) {
		if err := h.o.Store.RevokeSession(r.Context(), s.Nonce, access.BySignOut, h.now()); err != nil {
			return fmt.Errorf("login: revoke session: %w", err)
		}
		h.audit(r, access.Event{Kind: access.EventSignOut, Email: s.Identity.Email, IdP: s.Identity.IdP.ID})
	}
	http.SetCookie(w, &http.Cookie{
		Name:     access.CookieAuthorization,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   h.o.Secure,
		SameSite: http.SameSiteLaxMode,
	})
	// "Use another account" comes back to an app's sign-in page: a path on
	// the team domain only.
	back := ""
	if v := r.FormValue(paramRedirectURL); v != "" {
		if clean, err := web.CleanPath(v); err == nil && strings.HasPrefix(clean, access.PathLogin) {
			back = clean
		}
	}
	if known {
		if u, ok := h.idpSignOutURL(r, s, back); ok {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return nil
		}
	}
	if back != "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	h.o.Pages.Render(w, http.StatusOK, pages.PageSignedOut, "Signed out", signedOutData{SignInURL: h.signInAgainURL(r.FormValue(paramHost))})
	return nil
}

// signInAgainURL is where "Sign in again" on the signed-out page goes: the
// app of host when the sign-out came from a protected host (its entry path,
// through the redirect sanitizer), else the launcher.
func (h *Handler) signInAgainURL(host string) string {
	host, ok := cleanHost(host)
	if !ok || h.isTeamHost(host) {
		return access.PathLauncher
	}
	for _, a := range h.o.Apps().Apps() {
		if h.o.Apps().Match(host, a.EntryPath()) != a || !h.portAllowed(host, a) {
			continue
		}
		if p, err := web.CleanPath(a.EntryPath()); err == nil {
			return h.hostURL(host) + p
		}
	}
	return access.PathLauncher
}

// certs serves the public signing keys.
func (h *Handler) certs(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(h.o.Keys().CertsJSON())
	return nil
}
