package app

import (
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/scim"
	"github.com/gatehouse-dev/gatehouse/web"
)

// hosts dispatches a request on its Host: the team domain, or a protected
// host (the proxy refuses hosts no app claims). Static assets are served on
// every host under access.PathStatic.
type hosts struct {
	team        string // team domain, host[:port]
	teamHandler http.Handler
	admin       http.Handler // the admin pages under /admin on the team domain; nil: none
	scim        http.Handler // the SCIM service provider under /scim/v2 on the team domain; nil: none
	protected   http.Handler
	static      http.Handler
}

func (h *hosts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, access.PathStatic) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.static.ServeHTTP(w, r)
		return
	}
	if web.SameHost(r.Host, h.team) {
		if h.scim != nil && scim.IsPath(r.URL.Path) {
			h.scim.ServeHTTP(w, r)
			return
		}
		if h.admin != nil && admin.IsPath(r.URL.Path) {
			h.admin.ServeHTTP(w, r)
			return
		}
		h.teamHandler.ServeHTTP(w, r)
		return
	}
	h.protected.ServeHTTP(w, r)
}
