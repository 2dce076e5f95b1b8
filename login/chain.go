package login

import (
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// MaxChainHops is the most domains a sign-in sets the app cookie on at once,
// the starting domain included. An app with more concrete domains gets the
// cookie on the first MaxChainHops (in config order); the others get it on
// their first visit, through the normal flow. Each sibling costs three
// redirects (its hop, the team domain, its hand-off), and browsers follow
// at most 20 in a row, some of which an IdP's own redirects use.
const MaxChainHops = 5

// cookieChain returns the multi-domain cookie chain of a sign-in to t, kept
// in the starting domain's hand-off (Handoff.Next): one hop URL per sibling
// concrete domain of the app, in order, then the absolute URL to return to
// on the starting domain. nil when the app has one domain.
//
// A hop carries no credential: each sibling runs its own sign-in hand-off,
// bound to a CF_AppSession cookie it sets in the browser, through the team
// domain, where the browser's own global session decides. A hop link sent
// to another browser therefore signs that browser in as itself, or not at
// all, never as the person who sent it.
func (h *Handler) cookieChain(t target) []string {
	hosts := chainHosts(t.App, t.Host)
	if len(hosts) == 0 {
		return nil
	}
	next := make([]string, 0, len(hosts)+1)
	for _, host := range hosts {
		next = append(next, h.hostURL(host)+access.HopURL(t.App.AUD))
	}
	return append(next, h.hostURL(t.Host)+t.RedirectURL)
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
