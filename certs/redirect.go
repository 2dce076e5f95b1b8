package certs

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
)

// acmeChallengePrefix is the path of ACME HTTP-01 challenges.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// redirect answers the HTTP listener: a 308 to the same URL over HTTPS for
// the names Gatehouse serves, 404 for anything else (including ACME
// challenges that no pending order claimed).
type redirect struct {
	httpsPort string                   // "" or "443": left out of the URL
	patterns  atomic.Pointer[[]string] // lowercase host patterns, without ports
}

func newRedirect(httpsPort string, names []string) *redirect {
	r := &redirect{httpsPort: httpsPort}
	r.setNames(names)
	return r
}

// setNames replaces the names redirected.
func (rd *redirect) setNames(names []string) {
	patterns := make([]string, 0, len(names))
	for _, n := range names {
		if h := hostOnly(strings.ToLower(strings.TrimSpace(n))); h != "" {
			patterns = append(patterns, h)
		}
	}
	rd.patterns.Store(&patterns)
}

func (rd *redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	known := slices.ContainsFunc(*rd.patterns.Load(), func(p string) bool { return hostMatches(p, host) })
	if !known || strings.HasPrefix(r.URL.Path, acmeChallengePrefix) {
		http.NotFound(w, r)
		return
	}
	if rd.httpsPort != "" && rd.httpsPort != "443" {
		host = net.JoinHostPort(host, rd.httpsPort)
	}
	http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
}

// hostOnly drops a ":port" and a final dot from a configured name.
func hostOnly(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return strings.TrimSuffix(name, ".")
}

// hostMatches reports whether host is covered by a configured domain
// pattern: equal, or matching a wildcard first label ("*.x", "*foo.x").
func hostMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	first, rest, ok := strings.Cut(pattern, ".")
	if !ok || !strings.HasPrefix(first, "*") {
		return false
	}
	hfirst, hrest, ok := strings.Cut(host, ".")
	return ok && hrest == rest && hfirst != "" && strings.HasSuffix(hfirst, first[1:])
}
