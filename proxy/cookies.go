package proxy

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// appCookie returns the app's cookie name (CF_Authorization or CF_Binding)
// with the app's cookie settings: HttpOnly unless http_only = false,
// SameSite lax, strict or none (none implies Secure), and Path = the app
// path with path_cookie. maxAge < 0 deletes it. A nil app gets the
// defaults. Every place that sets CF_Authorization goes through here.
func (h *Handler) appCookie(app *access.App, name, value string, maxAge int) *http.Cookie {
	c := h.cookie(name, value, maxAge)
	if app == nil {
		return c
	}
	s := app.Cookie
	c.HttpOnly = !s.NoHTTPOnly || name == access.CookieBinding
	switch s.SameSite {
	case access.SameSiteStrict:
		c.SameSite = http.SameSiteStrictMode
	case access.SameSiteNone:
		c.SameSite = http.SameSiteNoneMode
		c.Secure = true
	}
	if s.PathCookie {
		c.Path = cookiePath(app.Path)
	}
	return c
}

// cookiePath is the cookie Path of an app path: "/" for the whole host,
// else the prefix without a trailing "/" or "/*".
func cookiePath(p string) string {
	p = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(p), "*"), "/")
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// setAppCookies sets CF_Authorization to raw for app and, when binding is
// not empty, CF_Binding to it, with the same lifetime.
func (h *Handler) setAppCookies(w http.ResponseWriter, app *access.App, raw, binding string, maxAge int) {
	http.SetCookie(w, h.appCookie(app, access.CookieAuthorization, raw, maxAge))
	if binding != "" {
		http.SetCookie(w, h.appCookie(app, access.CookieBinding, binding, maxAge))
	}
}

// setHandoffCookies sets the cookies of a consumed hand-off on the request's
// host: the app is the host's app whose audience the token names (the token
// itself is verified on every later request).
func (h *Handler) setHandoffCookies(w http.ResponseWriter, r *http.Request, hand access.Handoff) {
	h.setAppCookies(w, h.tokenApp(r, hand.Token), hand.Token, hand.Binding, hand.MaxAge)
}

// tokenApp returns the app served on r's host whose AUD the (unverified)
// token raw names, else the app matching r, else nil.
func (h *Handler) tokenApp(r *http.Request, raw string) *access.App {
	apps := h.hostApps(r)
	if _, payload, err := token.Decode(raw); err == nil {
		var auds []string
		switch v := payload["aud"].(type) {
		case string:
			auds = []string{v}
		case []any:
			for _, a := range v {
				if s, ok := a.(string); ok {
					auds = append(auds, s)
				}
			}
		}
		for _, a := range apps {
			for _, aud := range auds {
				if aud == a.AUD {
					return a
				}
			}
		}
	}
	if len(apps) > 0 {
		return apps[0]
	}
	return nil
}

// bindingOK reports whether the request may use a token with binding claim
// want: no binding, or a CF_Binding cookie whose hex SHA-256 is want.
func bindingOK(r *http.Request, want string) bool {
	if want == "" {
		return true
	}
	got := cookieValue(r.Header, access.CookieBinding)
	if got == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashHex(got)), []byte(want)) == 1
}

// clearAppCookies deletes CF_Authorization (and CF_Binding) on "/" and on
// each app's cookie path.
func (h *Handler) clearAppCookies(w http.ResponseWriter, apps []*access.App) {
	http.SetCookie(w, h.cookie(access.CookieAuthorization, "", -1))
	seen := map[string]bool{"/": true}
	for _, a := range apps {
		if a.Cookie.Binding {
			http.SetCookie(w, h.appCookie(a, access.CookieBinding, "", -1))
		}
		c := h.appCookie(a, access.CookieAuthorization, "", -1)
		if !seen[c.Path] {
			seen[c.Path] = true
			http.SetCookie(w, c)
		}
	}
}
