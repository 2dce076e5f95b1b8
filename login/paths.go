package login

// Reserved paths of the team domain (and, for PathAuthorized, of every
// protected host). They follow Cloudflare Access.
const (
	// PathLauncher is the app launcher.
	PathLauncher = "/"
	// PathLogin is the sign-in page; the protected host follows:
	// /cdn-cgi/access/login/{host}?kid=AUD&redirect_url=PATH&app_session=HASH.
	PathLogin = "/cdn-cgi/access/login/"
	// PathOTP shows (GET) and submits (POST) the one-time-PIN email form.
	PathOTP = "/cdn-cgi/access/otp"
	// PathOTPVerify checks the one-time PIN (POST).
	PathOTPVerify = "/cdn-cgi/access/otp/verify"
	// PathIdPStart starts sign-in with a redirecting provider (OIDC, SAML);
	// the provider id follows.
	PathIdPStart = "/cdn-cgi/access/start/"
	// PathCallback is the OIDC redirect URI and the SAML ACS.
	PathCallback = "/cdn-cgi/access/callback"
	// PathSAMLMetadata is the SAML SP metadata.
	PathSAMLMetadata = "/cdn-cgi/access/saml-metadata"
	// PathCerts publishes the token signing keys.
	PathCerts = "/cdn-cgi/access/certs"
	// PathGetIdentity returns the identity of the global session.
	PathGetIdentity = "/cdn-cgi/access/get-identity"
	// PathLogout ends the global session.
	PathLogout = "/cdn-cgi/access/logout"
	// PathAuthorized is the hand-off endpoint on a protected host.
	PathAuthorized = "/cdn-cgi/access/authorized"
	// PathStatic is where the shared static assets are served.
	PathStatic = "/cdn-cgi/access/static/"
)

// Cookies and headers of the team domain.
const (
	// CookieAuthorization holds the global session (org) token.
	CookieAuthorization = "CF_Authorization"
	// CookieCSRF holds the sign-in forms' CSRF token.
	CookieCSRF = "CF_Session"
	// HeaderAccessDomain names the protected host on sign-in pages.
	HeaderAccessDomain = "CF-Access-Domain"
)

// Flow parameters, carried in query strings and hidden form fields.
const (
	paramHost        = "host"
	paramRedirectURL = "redirect_url"
	paramAppSession  = "app_session"
	paramKid         = "kid"
	paramEmail       = "email"
	paramPINID       = "pin_id"
	paramCode        = "code"
	paramCSRF        = "csrf"
)
