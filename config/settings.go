package config

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// maxCORSMaxAge caps [apps.cors] max_age (browsers cap it lower anyway).
const maxCORSMaxAge = 86400

// appSettings validates an app's cookie, CORS, deny-page and service-token
// keys. scheme is the public scheme (Config.Scheme).
func (v *validator) appSettings(key string, a *AppConfig, scheme string) {
	if a.SameSite != "" {
		a.SameSite = strings.ToLower(a.SameSite)
		if v.oneOf(key+".same_site", a.SameSite, "lax", "strict", "none") &&
			a.SameSite == "none" && scheme != "https" {
			v.add(key+".same_site", `"none" needs HTTPS (browsers accept SameSite=None only with Secure), but tls.mode is "off" (set public_scheme = "https" behind a TLS terminator)`)
		}
	}
	if a.PathCookie && normalizePath(a.Path) == "" {
		v.add(key+".path_cookie", "needs a path (the app covers the whole host)")
	}
	if a.DenyMessage != "" && a.DenyURL != "" {
		v.add(key+".deny_url", "set either deny_message or deny_url, not both")
	}
	if a.DenyURL != "" {
		if u, err := url.Parse(a.DenyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			strings.ContainsAny(a.DenyURL, " \t\r\n<>\"") {
			v.add(key+".deny_url", "%q: must be an absolute http:// or https:// URL", a.DenyURL)
		}
	}
	if len(a.DenyMessage) > 1000 {
		v.add(key+".deny_message", "too long (at most 1000 characters)")
	}
	if h := a.ServiceTokenHeader; h != "" {
		if !validHeaderName(h) {
			v.add(key+".service_token_header", "%q: not a header name", h)
		} else if c := http.CanonicalHeaderKey(h); c == "Cookie" || c == "Host" || strings.HasPrefix(c, access.HeaderPrefix) {
			v.add(key+".service_token_header", "%q: choose another header", h)
		}
	}
	v.cors(key+".cors", &a.CORS)
}

// cors validates an [apps.cors] table.
func (v *validator) cors(key string, c *CORSConfig) {
	answer := len(c.AllowedOrigins) > 0 || len(c.AllowedMethods) > 0 || len(c.AllowedHeaders) > 0 ||
		c.AllowCredentials || c.MaxAge != 0
	if c.PreflightBypass && answer {
		v.add(key+".preflight_bypass", "either pass preflights to the origin (preflight_bypass) or answer them (allowed_*), not both")
	}
	if answer && len(c.AllowedOrigins) == 0 {
		v.add(key+".allowed_origins", "required to answer preflights")
	}
	for i, o := range c.AllowedOrigins {
		if o == "*" {
			if c.AllowCredentials {
				v.add(fmt.Sprintf("%s.allowed_origins[%d]", key, i), "\"*\" with allow_credentials would let every site make credentialed requests: list the origins")
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.User != nil {
			v.add(fmt.Sprintf("%s.allowed_origins[%d]", key, i), "%q: an origin such as \"https://app.example.com\", or \"*\"", o)
		}
	}
	for i, m := range c.AllowedMethods {
		if !validHeaderName(m) {
			v.add(fmt.Sprintf("%s.allowed_methods[%d]", key, i), "%q: not an HTTP method", m)
		}
	}
	for i, h := range c.AllowedHeaders {
		if h != "*" && !validHeaderName(h) {
			v.add(fmt.Sprintf("%s.allowed_headers[%d]", key, i), "%q: not a header name", h)
		}
	}
	if c.MaxAge < 0 || c.MaxAge > maxCORSMaxAge {
		v.add(key+".max_age", "%d: between 0 and %d seconds", c.MaxAge, maxCORSMaxAge)
	}
}

// validHeaderName reports whether s is an HTTP token (header or method name).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}
