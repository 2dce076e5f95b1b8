package proxy

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// paramNext carries the rest of a multi-domain cookie chain on the
// /cdn-cgi/access/authorized URL of a sibling domain: one absolute URL per
// value, in order, the last one being where the sign-in started.
const paramNext = "next"

// maxChain bounds the URLs a chain may carry (hops and the final return).
const maxChain = 16

// authorized trades the single-use hand-off nonce for the app cookie and
// sends the browser on to where it wanted to go.
//
// For an app with several concrete domains the sign-in is a chain: the
// domain the sign-in started from comes first (its hand-off is bound to the
// CF_AppSession cookie and holds the rest of the chain in Handoff.Next), then
// each sibling domain's /cdn-cgi/access/authorized, the last one returning
// to the starting domain. Sibling hops carry the remaining URLs in "next"
// parameters, so that a sibling whose nonce is spent or expired still sends
// the browser on: it only skips its own cookie.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rest := q[paramNext]
	nonce := q.Get("nonce")
	if nonce == "" && len(rest) == 0 {
		h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgInvalidLogin)
		return
	}
	hand, err := h.o.Store.ConsumeHandoff(r.Context(), nonce, r.Host, h.now())
	if err != nil {
		h.log.Info("proxy: refused hand-off", "host", r.Host, "err", err)
		if h.continueChain(w, r, rest) {
			return
		}
		h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgInvalidLogin)
		return
	}
	if hand.AppSessionHash != "" {
		got := hashHex(cookieValue(r.Header, access.CookieAppSession))
		if subtle.ConstantTimeCompare([]byte(got), []byte(hand.AppSessionHash)) != 1 {
			h.log.Info("proxy: hand-off app session mismatch", "host", r.Host)
			h.fail(w, r, http.StatusBadRequest, "Invalid login session", msgInvalidLogin)
			return
		}
	}
	h.setHandoffCookies(w, r, hand) // app cookie settings and CF_Binding (cookies.go)
	http.SetCookie(w, h.cookie(access.CookieAppSession, "", -1))
	if len(hand.Next) > 0 {
		// The chain stored with the starting domain's hand-off.
		rest = hand.Next
	}
	if h.continueChain(w, r, rest) {
		return
	}
	target, err := web.CleanPath(hand.RedirectURL)
	if err != nil {
		target = "/"
	}
	redirect(w, target)
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
		q[paramNext] = chain[1:]
		u.RawQuery = q.Encode()
	}
	redirect(w, u.String())
	return true
}

// sameApp reports whether u's host is a domain of an app served on r's host,
// so that a chain only ever moves between one app's domains.
func (h *Handler) sameApp(r *http.Request, u *url.URL) bool {
	for _, a := range h.hostApps(r) {
		p := a.Path
		if p == "" {
			p = "/"
		}
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
