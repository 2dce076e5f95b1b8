package proxy

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// msgInvalidLogin is shown for a nonce that is unknown, used, expired, bound
// to another host or started in another browser.
const msgInvalidLogin = "Invalid login session. Please go to the URL of your application again."

// serveReserved answers the /cdn-cgi/access paths of a protected host.
func (h *Handler) serveReserved(w http.ResponseWriter, r *http.Request) {
	if h.unavailable(w, r, "") {
		return
	}
	switch r.URL.Path {
	case access.PathForwardAuth:
		h.forwardAuth(w, r)
		return
	case access.PathSignIn:
		h.signIn(w, r)
		return
	}
	apps := h.hostApps(r)
	if len(apps) == 0 {
		h.notFound(w, r)
		return
	}
	switch r.URL.Path {
	case access.PathAuthorized:
		if !h.allowMethods(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		h.authorized(w, r)
	case access.PathGetIdentity:
		if !h.allowMethods(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		h.getIdentity(w, r, apps)
	case access.PathLogout:
		if !h.allowMethods(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
			return
		}
		h.logout(w, r, apps)
	default:
		h.notFound(w, r)
	}
}

// allowMethods answers 405 unless r uses one of methods.
func (h *Handler) allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	h.fail(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This address does not accept "+r.Method+" requests.")
	return false
}

// ipString is addr as text, or "" when unknown.
func ipString(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	return addr.String()
}

// hostApps returns the apps served on the request's host: the one matching
// the path first, then those matching at their own path. The reserved paths
// belong to the host, not to one app path.
func (h *Handler) hostApps(r *http.Request) []*access.App {
	t := h.o.Apps()
	if t == nil {
		return nil
	}
	var apps []*access.App
	if a := t.Match(r.Host, r.URL.Path); a != nil {
		apps = append(apps, a)
	}
	for _, a := range t.Apps() {
		p := a.EntryPath()
		if m := t.Match(r.Host, p); m == a && (len(apps) == 0 || apps[0] != a) {
			apps = append(apps, a)
		}
	}
	return apps
}

// verifyAny verifies the request's credential against each of apps and
// returns the claims and the app that accepted it.
func (h *Handler) verifyAny(r *http.Request, apps []*access.App) (*token.Claims, *access.App, error) {
	raw, ambiguous := credential(r)
	if ambiguous {
		return nil, nil, errAmbiguous
	}
	if raw == "" {
		return nil, nil, errNoCredential
	}
	now := h.now()
	var firstErr error
	for _, a := range apps {
		c, err := h.verify(raw, a.AUD, now)
		if err == nil {
			return c, a, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, nil, firstErr
}

// identityJSON is the get-identity response: the stored identity plus the

// getIdentity serves the identity behind the request's app token.
func (h *Handler) getIdentity(w http.ResponseWriter, r *http.Request, apps []*access.App) {
	claims, _, err := h.verifyAny(r, apps)
	if err != nil {
		h.identityUnauthorized(w, r, err)
		return
	}
	if claims.IdentityNonce == "" {
		// A token without a session (a service token): what the token says.
		h.own(w, r, func(w http.ResponseWriter) {
			web.WriteJSON(w, http.StatusOK, access.ServiceDoc(claims.CommonName, claims.IssuedAt, h.accountID()))
		})
		return
	}
	s, err := h.o.Store.Session(r.Context(), claims.IdentityNonce)
	if err == nil && !s.Active(h.now()) {
		err = errRevoked
	}
	if err != nil {
		h.identityUnauthorized(w, r, err)
		return
	}
	h.own(w, r, func(w http.ResponseWriter) {
		web.WriteJSON(w, http.StatusOK, s.Doc(h.accountID()))
	})
}

// identityUnauthorized is get-identity's 401.
func (h *Handler) identityUnauthorized(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Debug("proxy: get-identity refused", "host", r.Host, "err", err)
	h.own(w, r, func(w http.ResponseWriter) {
		// get-identity is an API: JSON whatever the client accepts.
		w.Header().Set("WWW-Authenticate", "Cloudflare-Access")
		web.WriteJSON(w, http.StatusUnauthorized, web.ErrorBody{Error: "No valid app token.", Status: http.StatusUnauthorized})
	})
}

// logout ends the user's session everywhere (when the request carries a
// valid token), clears the app cookie and hands over to the team domain's
// logout, which ends the global cookie and says "signed out".
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, apps []*access.App) {
	claims, app, err := h.verifyAny(r, apps)
	switch {
	case err != nil:
		h.log.Debug("proxy: logout without a valid token", "host", r.Host, "err", err)
	case claims.IdentityNonce != "":
		now := h.now()
		if err := h.o.Store.RevokeSession(r.Context(), claims.IdentityNonce, access.BySignOut, now); err != nil {
			h.log.Error("proxy: logout: revoke session", "app", app.Name, "err", err)
		}
		ev := access.Event{
			Time:   now,
			Kind:   access.EventSignOut,
			Email:  claims.Email,
			App:    app.Name,
			IP:     ipString(web.ClientIP(r, h.o.TrustedProxies, h.ipHeader)),
			Detail: "signed out on " + r.Host,
		}
		if err := h.o.Store.Audit(r.Context(), ev); err != nil {
			h.log.Error("proxy: logout: audit", "app", app.Name, "err", err)
		}
	}
	h.clearAppCookies(w, apps)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", h.o.TeamURL+access.PathLogout+"?host="+url.QueryEscape(r.Host))
	w.WriteHeader(http.StatusFound)
}

// accountID is the installation's account_id, from the team URL's host.
func (h *Handler) accountID() string {
	team := strings.TrimPrefix(strings.TrimPrefix(h.o.TeamURL, "https://"), "http://")
	return access.AccountID(team)
}
