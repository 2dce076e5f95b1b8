package login

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// MaxChainHops is the most domains a sign-in sets the app cookie on at once,
// the starting domain included. An app with more concrete domains gets the
// cookie on the first MaxChainHops (in config order); the others get it on
// their first visit, through the normal flow.
const MaxChainHops = 10

// cookieChain prepares the multi-domain cookie chain of a sign-in to t: one
// hand-off per sibling concrete domain of the app, each behind its own
// single-use nonce bound to that host and carrying the same app token, and
// returns what the starting domain's hand-off keeps in Handoff.Next: the
// siblings' /cdn-cgi/access/authorized URLs in order, then the absolute URL
// to return to on the starting domain. nil when the app has one domain.
//
// The sibling hand-offs carry no app_session binding (the browser has no
// CF_AppSession cookie on those hosts); their nonces only leave Gatehouse
// in the redirect of the starting domain's hand-off, which is bound to the
// browser that started the sign-in.
func (h *Handler) cookieChain(r *http.Request, t target, first access.Handoff, now time.Time) ([]string, error) {
	hosts := chainHosts(t.App, t.Host)
	if len(hosts) == 0 {
		return nil, nil
	}
	next := make([]string, 0, len(hosts)+1)
	for _, host := range hosts {
		hand := first
		hand.AppSessionHash = ""
		hand.RedirectURL = "/"
		hand.Next = nil
		nonce := token.RandomHex(32)
		if err := h.o.Store.CreateHandoff(r.Context(), nonce, host, hand, now.Add(handoffTTL)); err != nil {
			return nil, fmt.Errorf("login: create chain hand-off for %s: %w", host, err)
		}
		v := url.Values{}
		v.Set("nonce", nonce)
		v.Set("state", handoffState(host, t.RedirectURL, now.Unix()))
		next = append(next, h.hostURL(host)+access.PathAuthorized+"?"+v.Encode())
	}
	return append(next, h.hostURL(t.Host)+t.RedirectURL), nil
}

// chainHosts returns the concrete domains of app other than start, in config
// order, at most MaxChainHops-1 of them. Wildcard domains are left out (they
// get the cookie on first visit). A domain without a port borrows start's,
// since one listener serves them all.
func chainHosts(app *access.App, start string) []string {
	if app == nil {
		return nil
	}
	start = strings.ToLower(start)
	_, port, hasPort := strings.Cut(start, ":")
	seen := map[string]bool{start: true}
	var out []string
	for _, d := range app.Domains {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" || strings.Contains(d, "*") {
			continue
		}
		if hasPort && !strings.Contains(d, ":") {
			d += ":" + port
		}
		host, ok := cleanHost(d)
		if !ok || seen[host] {
			continue
		}
		seen[host] = true
		out = append(out, host)
		if len(out) == MaxChainHops-1 {
			break
		}
	}
	return out
}
