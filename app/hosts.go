package app

import (
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/proxy"
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
	// unavailable is the node's fail-closed check (nil: none): while it
	// errs, the team domain refuses everything but its published keys
	// with the one error shape (503, "session store unreachable"), since
	// its pages are authorized with global sessions; the protected hosts
	// ask it themselves (proxy.Options.Unavailable).
	unavailable func() error
	errors      *web.Adapter
}

func (h *hosts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, access.PathStatic) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.static.ServeHTTP(w, r)
		return
	}
	if web.SameHost(r.Host, h.team) {
		if h.unavailable != nil && r.URL.Path != access.PathCerts {
			if err := h.unavailable(); err != nil {
				w.Header().Set("Retry-After", "5")
				if scim.IsPath(r.URL.Path) {
					scim.WriteError(w, http.StatusServiceUnavailable, proxy.MsgStoreUnreachable)
					return
				}
				errs := h.errors
				if strings.HasPrefix(r.URL.Path, access.PathAPI) {
					// API clients get the JSON shape whatever they accept.
					errs = &web.Adapter{Log: h.errors.Log, JSON: true}
				}
				web.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					errs.Respond(w, r, &web.Error{Status: http.StatusServiceUnavailable, Title: "Service unavailable", Msg: proxy.MsgStoreUnreachable, Err: err})
				})).ServeHTTP(w, r)
				return
			}
		}
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
