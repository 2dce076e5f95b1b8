package access

import "time"

// SameSite values of App.Cookie.SameSite.
const (
	SameSiteLax    = "lax"
	SameSiteStrict = "strict"
	SameSiteNone   = "none"
)

// Settings are the per-app options of the request path besides policies.
// Their zero value is the default behaviour.
type Settings struct {
	Cookie CookieSettings
	CORS   CORS

	// DenyMessage is shown on the 403 page of a block or default-deny
	// result; "" for the standard text.
	DenyMessage string
	// DenyURL, when set, is where navigations refused by policy are
	// redirected (an absolute http(s) URL).
	DenyURL string

	// ServiceTokenHeader, when set, names one header holding the JSON
	// {"cf-access-client-id": ..., "cf-access-client-secret": ...}, read
	// besides CF-Access-Client-Id and CF-Access-Client-Secret.
	ServiceTokenHeader string
	// NoHSTS leaves Strict-Transport-Security off the app's HTTPS
	// responses (the config's hsts = false), for an origin that sets its
	// own; HSTS is the default.
	NoHSTS bool

	// ServiceAuth401 answers unauthenticated requests to an app without an
	// allow policy with 401 instead of 403.
	ServiceAuth401 bool
}

// CookieSettings are the attributes of the app's CF_Authorization cookie.
type CookieSettings struct {
	// NoHTTPOnly drops the HttpOnly attribute (the config's http_only =
	// false); HttpOnly is the default.
	NoHTTPOnly bool
	// SameSite is SameSiteLax (also for ""), SameSiteStrict or SameSiteNone;
	// none implies Secure.
	SameSite string
	// Binding sets the CF_Binding cookie at sign-in; the token carries its
	// hash and is refused without it.
	Binding bool
	// PathCookie scopes the cookie to the app's Path instead of "/".
	PathCookie bool
}

// CORS is the app's preflight handling. With neither PreflightBypass nor
// AllowedOrigins, preflights are treated as any other request.
type CORS struct {
	// PreflightBypass passes OPTIONS preflights to the origin untouched.
	PreflightBypass bool
	// AllowedOrigins are the origins Gatehouse answers preflights for
	// ("*" for any). Empty with PreflightBypass false: CORS is off.
	AllowedOrigins   []string
	AllowedMethods   []string
	AllowedHeaders   []string
	AllowCredentials bool
	MaxAge           time.Duration
}

// Enabled reports whether Gatehouse answers preflights itself.
func (c CORS) Enabled() bool { return !c.PreflightBypass && len(c.AllowedOrigins) > 0 }

// HasAllowPolicy reports whether the app has a policy a signed-in user can
// pass (allow): without one, the app only serves service tokens and bypass
// paths, and unauthenticated requests are refused instead of redirected.
func (a *App) HasAllowPolicy() bool {
	for i := range a.Policies {
		if a.Policies[i].Decision == Allow {
			return true
		}
	}
	return false
}
