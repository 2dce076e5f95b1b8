package proxy

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// maxChain bounds the URLs a chain may carry (hops and the final return).
const maxChain = 16

// msgOtherBrowser explains a refused hand-off: spent, expired, or another
// browser's.
const msgOtherBrowser = "This sign-in link has expired, was already used, or was started in another browser, " +
	"so it cannot sign you in here. Go to the URL of your application to sign in."

// authorized trades the single-use hand-off nonce for the app cookie and
// sends the browser on to where it wanted to go. Every hand-off is bound to
// the CF_AppSession cookie of the browser that started it: a hand-off link
// opened in another browser never sets a cookie.
//
// For an app with several concrete domains the sign-in is a chain kept in
// the starting domain's hand-off (Handoff.Next): a hop URL per sibling
// domain (?hop=AUD), then the URL to return to. A sibling reached with
// ?hop runs its own browser-bound sign-in hand-off through the team domain
// (where the browser's own global session decides), returning here with
// the rest of the chain in "next" parameters; without a nonce and with
// "next", the chain goes on.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rest := q[access.ParamNext]
	nonce := q.Get("nonce")
	if aud := q.Get(access.ParamHop); aud != "" && nonce == "" {
		h.startHop(w, r, aud, rest)
		return
	}
	if nonce == "" {
		if !h.continueChain(w, r, rest) {
			h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgInvalidLogin)
		}
		return
	}
	session := cookieValue(r.Header, access.CookieAppSession)
	if !validAppSession(session) {
		h.log.Info("proxy: hand-off without this browser's CF_AppSession refused", "host", r.Host)
		h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgOtherBrowser)
		return
	}
	hand, err := h.o.Store.ConsumeHandoff(r.Context(), nonce, r.Host, hashHex(session), h.now())
	if err != nil {
		h.log.Info("proxy: refused hand-off", "host", r.Host, "err", err)
		h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgOtherBrowser)
		return
	}
	h.setHandoffCookies(w, r, hand) // app cookie settings and CF_Binding (cookies.go)
	http.SetCookie(w, h.cookie(access.CookieAppSession, "", -1))
	chain := hand.Next
	if access.IsHop(hand.RedirectURL) {
		// This domain was a hop: go on with the rest of the chain at once.
		if u, err := url.Parse(hand.RedirectURL); err == nil {
			chain = u.Query()[access.ParamNext]
		}
	}
	if h.continueChain(w, r, chain) {
		return
	}
	target, err := web.CleanPath(hand.RedirectURL)
	if err != nil {
		target = "/"
	}
	redirect(w, target)
}

// startHop runs this host's browser-bound sign-in hand-off for the app with
// audience aud, as a hop of a multi-domain chain: it sets a fresh
// CF_AppSession cookie and sends the browser to the team domain's login,
// which returns to PathAuthorized with a bound nonce and the rest of the
// chain.
func (h *Handler) startHop(w http.ResponseWriter, r *http.Request, aud string, rest []string) {
	var app *access.App
	for _, a := range h.hostApps(r) {
		if a.AUD == aud {
			app = a
		}
	}
	if app == nil || len(rest) > maxChain {
		h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgInvalidLogin)
		return
	}
	session := token.RandomHex(16)
	http.SetCookie(w, h.cookie(access.CookieAppSession, session, appSessionMaxAge))
	back := access.PathAuthorized
	if len(rest) > 0 {
		back += "?" + url.Values{access.ParamNext: rest}.Encode()
	}
	redirect(w, h.loginURLFor(r.Host, app, back, session))
}

// continueChain redirects to the first URL of chain, handing it the others,
// when that URL belongs to an app served on the request's host. It reports
// whether it answered.
func (h *Handler) continueChain(w http.ResponseWriter, r *http.Request, chain []string) bool {
	if len(chain) == 0 || len(chain) > maxChain {
		return false
	}
	u, err := url.Parse(chain[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" ||
		!h.sameApp(r, u) {
		h.log.Info("proxy: refused multi-domain chain", "host", r.Host, "next", chain[0])
		return false
	}
	if len(chain) > 1 {
		if u.Path != access.PathAuthorized {
			return false
		}
		q := u.Query()
		q[access.ParamNext] = chain[1:]
		u.RawQuery = q.Encode()
	}
	redirect(w, u.String())
	return true
}

// sameApp reports whether u's host is a domain of an app served on r's host,
// so that a chain only ever moves between one app's domains.
func (h *Handler) sameApp(r *http.Request, u *url.URL) bool {
	for _, a := range h.hostApps(r) {
		p := a.EntryPath()
		if access.NewTable([]*access.App{a}).Match(u.Host, p) != nil && chainPortOK(r, u, a) {
			return true
		}
	}
	return false
}

// chainPortOK reports whether u names no port, its scheme's default port,
// the port of r's host, or a port one of a's domains names. A domain without
// a port matches any port, so without this a "next" URL could send the
// browser to another service on an app's host name.
func chainPortOK(r *http.Request, u *url.URL, a *access.App) bool {
	port := u.Port()
	if port == "" || (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		return true
	}
	if _, rport, err := net.SplitHostPort(r.Host); err == nil && rport == port {
		return true
	}
	for _, d := range a.Domains {
		if strings.HasSuffix(strings.TrimSuffix(strings.TrimSpace(d), "."), ":"+port) {
			return true
		}
	}
	return false
}

// redirect answers 302 to target, never cached.
func redirect(w http.ResponseWriter, target string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}
