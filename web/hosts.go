package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// HSTSValue is the Strict-Transport-Security header of HTTPS responses.
const HSTSValue = "max-age=31536000"

// SameHost reports whether the request host equals the configured team
// domain. When the team domain names a port, it must match; otherwise any
// port does (behind a TLS terminator the public port is not the listener's).
func SameHost(reqHost, team string) bool {
	reqHost = strings.ToLower(strings.TrimSuffix(reqHost, "."))
	team = strings.ToLower(team)
	if reqHost == team {
		return true
	}
	if _, _, err := net.SplitHostPort(team); err == nil {
		return false
	}
	if h, _, err := net.SplitHostPort(reqHost); err == nil {
		return strings.TrimSuffix(h, ".") == team
	}
	return false
}

// HSTS adds the HSTS header to the HTTPS responses of the team domain and
// of every app that does not turn it off (hsts = false). On an app host it
// is set before the origin answers, so an origin's own header comes second
// (browsers keep the first): such an origin sets hsts = false.
func HSTS(team string, apps func() *access.Table, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if SameHost(r.Host, team) {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		} else if app := apps().Match(r.Host, r.URL.Path); app != nil && !app.NoHSTS {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		}
		next.ServeHTTP(w, r)
	})
}
