package proxy

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// isPreflight reports whether r is a CORS preflight: OPTIONS with Origin
// and Access-Control-Request-Method.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// corsOrigin returns origin when the app's CORS settings allow it, else "".
// "*" allows any origin (echoed back, so that credentials work).
func corsOrigin(c access.CORS, origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return origin
		}
	}
	return ""
}

// preflight answers a CORS preflight from the app's settings: 204 with the
// Access-Control-* headers when the origin is allowed, 204 without them
// otherwise. It never asks for a credential.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, app *access.App) {
	c := app.CORS
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	hdr.Add("Vary", "Access-Control-Request-Method")
	hdr.Add("Vary", "Access-Control-Request-Headers")
	hdr.Set("Cache-Control", "no-store")
	if origin := corsOrigin(c, r.Header.Get("Origin")); origin != "" {
		hdr.Set("Access-Control-Allow-Origin", origin)
		methods := c.AllowedMethods
		if len(methods) == 0 {
			methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
		}
		hdr.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
		if len(c.AllowedHeaders) > 0 {
			if slices.Contains(c.AllowedHeaders, "*") {
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					hdr.Set("Access-Control-Allow-Headers", req)
				}
			} else {
				hdr.Set("Access-Control-Allow-Headers", strings.Join(c.AllowedHeaders, ", "))
			}
		}
		if c.AllowCredentials {
			hdr.Set("Access-Control-Allow-Credentials", "true")
		}
		if c.MaxAge > 0 {
			hdr.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
