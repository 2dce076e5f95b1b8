package access

import (
	"errors"
	"strings"
)

// The names of the Cloudflare Access contract, each declared once. Paths
// under PathPrefix are Gatehouse's own on the team domain and on every
// protected host; they never reach an origin.
const (
	// PathPrefix is the reserved namespace.
	PathPrefix = "/cdn-cgi/access/"

	// PathLauncher is the app launcher on the team domain.
	PathLauncher = "/"
	// PathSessions lists the signed-in user's own global sessions on the
	// team domain (GET); PathSessionsEnd ends one of them, or all but the
	// current one (POST, with the sign-in forms' CSRF cookie, whose path is
	// PathPrefix).
	PathSessions    = PathPrefix + "sessions"
	PathSessionsEnd = PathPrefix + "sessions/end"
	// PathLogin is the team domain's sign-in page; the protected host
	// follows: /cdn-cgi/access/login/{host}?kid=AUD&redirect_url=PATH&app_session=HASH.
	PathLogin = PathPrefix + "login/"
	// PathOTP shows (GET) and submits (POST) the one-time-PIN email form.
	PathOTP = PathPrefix + "otp"
	// PathOTPVerify checks the one-time PIN (POST).
	PathOTPVerify = PathPrefix + "otp/verify"
	// PathIdPStart starts sign-in with a redirecting provider (OIDC, SAML);
	// the provider id follows.
	PathIdPStart = PathPrefix + "start/"
	// PathCallback is the OIDC redirect URI and the SAML ACS.
	PathCallback = PathPrefix + "callback"
	// PathSAMLMetadata is the SAML SP metadata of the default provider;
	// SAMLMetadataPath gives a named provider's.
	PathSAMLMetadata = PathPrefix + "saml-metadata"
	// PathCerts publishes the token signing keys.
	PathCerts = PathPrefix + "certs"
	// PathGetIdentity returns the identity of the global session (team
	// domain) or of the app token (protected host).
	PathGetIdentity = PathPrefix + "get-identity"
	// PathLogout ends the user's session everywhere.
	PathLogout = PathPrefix + "logout"
	// PathAuthorized ends a sign-in hand-off on a protected host: it trades
	// a single-use nonce for the app cookie.
	PathAuthorized = PathPrefix + "authorized"
	// PathForwardAuth answers an edge proxy's forward-auth subrequest
	// (nginx auth_request, Caddy forward_auth, Traefik ForwardAuth).
	PathForwardAuth = PathPrefix + "forward-auth"
	// PathSignIn starts a sign-in on a protected host:
	// /cdn-cgi/access/sign-in?redirect_url=PATH (for edges that cannot pass
	// the login redirect with its cookie).
	PathSignIn = PathPrefix + "sign-in"
	// PathAPI is the prefix of the admin API on the team domain (JSON,
	// "Authorization: Bearer <API token>"); the resource follows, as in
	// /cdn-cgi/access/api/v1/users.
	PathAPI = PathPrefix + "api/v1/"
	// PathBackchannelLogout receives an OpenID provider's back-channel
	// logout tokens (POST); the provider id follows (BackchannelLogoutPath).
	PathBackchannelLogout = PathPrefix + "backchannel-logout/"
	// PathSignedOut is the "You are signed out" page, where an OpenID
	// provider sends the browser back after RP-initiated logout
	// (post_logout_redirect_uri).
	PathSignedOut = PathPrefix + "signed-out"
	// PathStatic serves the shared static assets.
	PathStatic = PathPrefix + "static/"
)

// PathSCIM is the base URL path of the SCIM 2.0 service provider on the team
// domain (RFC 7644): /scim/v2/Users, /scim/v2/Groups, ... An identity
// provider is given https://<team domain>/scim/v2.
const PathSCIM = "/scim/v2"

// Parameters of PathAuthorized in a multi-domain cookie chain.
const (
	// ParamHop, with the app's AUD, asks a sibling domain to run its own
	// browser-bound sign-in hand-off for the app, then go on with the chain.
	ParamHop = "hop"
	// ParamNext carries the rest of the chain, one absolute URL per value.
	ParamNext = "next"
)

// HopURL is the path and query of a chain hop of the app with audience aud.
func HopURL(aud string) string { return PathAuthorized + "?" + ParamHop + "=" + aud }

// IsHop reports whether a sign-in's redirect target is a chain hop's return
// to the hand-off endpoint (such a sign-in starts no chain of its own).
func IsHop(redirectURL string) bool {
	p, _, _ := strings.Cut(redirectURL, "?")
	return p == PathAuthorized
}

// SAMLMetadataPath is the SP metadata path of the SAML provider id.
func SAMLMetadataPath(id string) string { return PathPrefix + id + "/saml-metadata" }

// BackchannelLogoutPath is the back-channel logout URI path of the OpenID
// provider id, to register at the provider as its backchannel_logout_uri.
func BackchannelLogoutPath(id string) string { return PathBackchannelLogout + id }

// IsReserved reports whether path lies in the reserved namespace.
func IsReserved(path string) bool { return strings.HasPrefix(path, PathPrefix) }

// Cookies.
const (
	// CookieAuthorization holds the app token on a protected host and the
	// global session (org) token on the team domain.
	CookieAuthorization = "CF_Authorization"
	// CookieBinding is the binding cookie whose hash a bound token carries.
	CookieBinding = "CF_Binding"
	// CookieAppSession binds a login URL to the browser that was sent to it.
	CookieAppSession = "CF_AppSession"
	// CookieCSRF holds the sign-in forms' CSRF token on the team domain.
	CookieCSRF = "CF_Session"
	// CookieSignIn binds a redirecting sign-in (OIDC, SAML) to the browser
	// that started it.
	CookieSignIn = "CF_SignIn"
	// CookieSignInReturn remembers where a redirecting sign-in started
	// (the app's sign-in page), so that "Sign in again" on an error page
	// whose sign-in state is lost returns there, not to the launcher.
	CookieSignInReturn = "CF_SignIn_Return"
	// CookieAdmin holds the admin page's session.
	CookieAdmin = "GH_Admin"
	// CookieAdminFlash carries the admin page's one-shot messages.
	CookieAdminFlash = "GH_Flash"
)

// Headers.
const (
	// HeaderJWTAssertion carries the app token to the origin.
	HeaderJWTAssertion = "Cf-Access-Jwt-Assertion"
	// HeaderUserEmail carries the user's email to the origin.
	HeaderUserEmail = "Cf-Access-Authenticated-User-Email"
	// HeaderAccessToken is a client's way to present an app token.
	HeaderAccessToken = "Cf-Access-Token"
	// HeaderClientID and HeaderClientSecret present a service token.
	HeaderClientID     = "Cf-Access-Client-Id"
	HeaderClientSecret = "Cf-Access-Client-Secret"
	// HeaderAccessDomain names the protected host on sign-in pages.
	HeaderAccessDomain = "CF-Access-Domain"
	// HeaderPrefix starts every header of the contract; clients' copies
	// never reach an origin.
	HeaderPrefix = "Cf-Access-"
)

// Fields of the JSON a service token may present in one configured header.
const (
	JSONClientID     = "cf-access-client-id"
	JSONClientSecret = "cf-access-client-secret"
)

// ErrStorageFull marks a failed write because the store has no room (a
// full disk): Gatehouse cannot record sign-ins or revocations until there
// is. Callers answer 503 with Retry-After, not a generic 500.
var ErrStorageFull = errors.New("access: storage full")
