package proxy

import "strings"

// Paths Gatehouse answers itself on every protected host. They never reach
// the origin.
const (
	// PathAuthorized ends the login chain: it trades a single-use nonce for
	// the app cookie.
	PathAuthorized = "/cdn-cgi/access/authorized"
	// PathGetIdentity serves the identity behind the app token as JSON.
	PathGetIdentity = "/cdn-cgi/access/get-identity"
	// PathLogout ends the user's session everywhere and clears the cookie.
	PathLogout = "/cdn-cgi/access/logout"

	// reservedPrefix is the namespace Gatehouse owns on protected hosts.
	reservedPrefix = "/cdn-cgi/access/"
	// teamLoginPath is the login path on the team domain; the protected
	// host is appended to it.
	teamLoginPath = "/cdn-cgi/access/login/"
	// teamLogoutPath ends the global session on the team domain.
	teamLogoutPath = "/cdn-cgi/access/logout"
)

// Cookie and header names of the origin contract.
const (
	CookieAuthorization = "CF_Authorization"
	CookieBinding       = "CF_Binding"
	CookieAppSession    = "CF_AppSession"

	HeaderJWTAssertion = "Cf-Access-Jwt-Assertion"
	HeaderUserEmail    = "Cf-Access-Authenticated-User-Email"
	HeaderAccessToken  = "Cf-Access-Token"
	HeaderClientID     = "Cf-Access-Client-Id"
	HeaderClientSecret = "Cf-Access-Client-Secret"
)

// isReserved reports whether path lies in the namespace Gatehouse owns.
func isReserved(path string) bool { return strings.HasPrefix(path, reservedPrefix) }
