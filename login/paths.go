package login

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
