package access

import "time"

// IdPSession is what an OpenID provider said about its own session when a
// user signed in: it is kept with the global session so that the provider
// can end it (back-channel logout, matched by SID, else by Subject) and so
// that signing out can end the provider's session too (RP-initiated logout,
// with IDToken as the id_token_hint).
type IdPSession struct {
	IdP     string // the provider id in the config
	Subject string // the ID token's sub
	SID     string // the ID token's sid; "" when the provider sent none
	IDToken string // the raw ID token; kept only when the provider signs out with Gatehouse
}

// LogoutClaims are the verified claims of an OpenID Connect back-channel
// logout token: which provider session or subject ended.
type LogoutClaims struct {
	IdP     string    // the provider id in the config
	Subject string    // sub; "" when only SID is given
	SID     string    // sid; "" when only Subject is given
	JTI     string    // the token's unique id
	Expires time.Time // until when the JTI must be remembered
}
