package proxy

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Forward-auth: an edge proxy (nginx auth_request, Caddy forward_auth,
// Traefik ForwardAuth, HAProxy) asks Gatehouse about each request before it
// forwards the request to the upstream itself. The edge sends the original
// method, host and URI in X-Forwarded-Method, X-Forwarded-Host and
// X-Forwarded-Uri (Caddy, Traefik, HAProxy) or X-Original-Method and
// X-Original-URI (nginx), the client address in X-Forwarded-For, and the
// client's Cookie and other headers. Only trusted proxies may ask.
//
// The answer is the one a protected host would give, with the request
// itself replaced by "200, go ahead": the identity headers
// (Cf-Access-Jwt-Assertion, Cf-Access-Authenticated-User-Email) for the
// edge to copy to the upstream, a refreshed CF_Authorization cookie for it
// to pass to the browser, and for everything else the same 302 to the
// login, 401 JSON for scripts, 403 pages and service-token handling. nginx
// cannot pass a 302 through auth_request, so for nginx a navigation that
// must sign in gets 401 with the login URL in Location, which its
// error_page turns into the redirect.

// edgeMode says how a request reached authorize.
type edgeMode int

const (
	edgeNone  edgeMode = iota // Gatehouse proxies the request itself
	edgeCaddy                 // forward-auth with X-Forwarded-* (Caddy, Traefik, HAProxy)
	edgeNginx                 // forward-auth with X-Original-* (nginx auth_request)
)

type edgeKey struct{}

// edgeOf returns the edge mode of a request's context.
func edgeOf(ctx context.Context) edgeMode {
	m, _ := ctx.Value(edgeKey{}).(edgeMode)
	return m
}

// forwardAuth serves access.PathForwardAuth.
func (h *Handler) forwardAuth(w http.ResponseWriter, r *http.Request) {
	if !peerTrusted(r, h.o.TrustedProxies) {
		h.log.Warn("proxy: forward-auth asked by an untrusted peer", "peer", r.RemoteAddr)
		h.fail(w, r, http.StatusForbidden, "Forbidden", "Forward-auth answers trusted proxies only.")
		return
	}
	orig, mode, ok := originalRequest(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, "Bad request", "The forward-auth request does not say which request it is about.")
		return
	}
	orig, ok = canonicalRequest(orig)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, "Bad request", "This address is not valid.")
		return
	}
	var app *access.App
	if t := h.o.Apps(); t != nil {
		app = t.Match(orig.Host, orig.URL.Path)
	}
	if app == nil || access.IsReserved(orig.URL.Path) {
		// Reserved paths are Gatehouse's own: the edge routes them here.
		note(r, "", DecisionNoApp, "")
		h.notFound(w, orig)
		return
	}
	h.authorize(w, orig.WithContext(context.WithValue(orig.Context(), edgeKey{}, mode)), app)
}

// originalRequest rebuilds, from a forward-auth request, the request the
// edge asks about.
func originalRequest(r *http.Request) (*http.Request, edgeMode, bool) {
	mode := edgeCaddy
	method, uri := r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Forwarded-Uri")
	if v := r.Header.Get("X-Original-Uri"); v != "" {
		mode, uri = edgeNginx, v
		method = r.Header.Get("X-Original-Method")
	}
	if uri == "" || !strings.HasPrefix(uri, "/") {
		return nil, mode, false
	}
	if method == "" {
		method = http.MethodGet
	}
	host := r.Host
	if v := r.Header.Get("X-Forwarded-Host"); v != "" {
		host, _, _ = strings.Cut(v, ",")
		host = strings.TrimSpace(host)
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, mode, false
	}
	o := r.Clone(r.Context())
	o.Method, o.Host, o.URL, o.RequestURI = method, host, u, uri
	for _, name := range []string{"X-Forwarded-Method", "X-Forwarded-Uri", "X-Original-Uri", "X-Original-Method", "X-Original-Url"} {
		delete(o.Header, name)
	}
	o.Body, o.ContentLength = http.NoBody, 0
	return o, mode, true
}

// allowEdge answers a forward-auth request that may go ahead: 200 with the
// identity headers of plan for the edge to copy to the upstream (none for a
// bypass). Set-Cookie headers already on w (a refresh) go with it.
func (h *Handler) allowEdge(w http.ResponseWriter, plan *forwardPlan) {
	hdr := w.Header()
	if plan != nil {
		if v := plan.jwt[0]; v != "" {
			hdr.Set(access.HeaderJWTAssertion, v)
		}
		if v := plan.email[0]; v != "" {
			hdr.Set(access.HeaderUserEmail, v)
		}
	}
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
