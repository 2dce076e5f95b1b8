package access

import (
	"slices"
	"time"
)

// IdP names the identity provider a user signed in with.
type IdP struct {
	ID   string `json:"id"`   // the provider's id in the config (for example "pin")
	Type string `json:"type"` // "onetimepin", "oidc" or "saml"
}

// Identity is who a user is, as established at sign-in. It is stored with the
// global session and served by get-identity; app tokens carry a subset.
type Identity struct {
	UserID   string         `json:"user_uuid"` // stable UUID per email; the token's sub
	Email    string         `json:"email"`
	Name     string         `json:"name,omitempty"`
	Groups   []string       `json:"groups,omitempty"`
	IdP      IdP            `json:"idp"`
	AMR      []string       `json:"amr,omitempty"`    // authentication methods (RFC 8176), from the IdP
	Custom   map[string]any `json:"custom,omitempty"` // configured IdP claims/attributes
	Country  string         `json:"country,omitempty"`
	IP       string         `json:"ip,omitempty"`
	IssuedAt int64          `json:"iat"` // sign-in time, Unix seconds

	// idpGroups are the groups the IdP asserted at sign-in, kept by
	// WithDirectory when the directory's groups replace them; provisioned
	// says that it did. Neither is ever serialised.
	idpGroups   []string
	provisioned bool
}

// InIdPGroup reports whether the identity is in group by its identity
// provider's word: in Groups, and, for a user the provisioning directory
// knows, also in the groups the IdP asserted at sign-in. What grants control
// of Gatehouse itself (admins = ["group:NAME"]) asks this, so that a SCIM
// client (one API token with the scim scope) can take such a group away but
// never give it.
func (id Identity) InIdPGroup(group string) bool {
	if !slices.Contains(id.Groups, group) {
		return false
	}
	return !id.provisioned || slices.Contains(id.idpGroups, group)
}

// Session is a global (team-domain) session. Its Nonce is the identity_nonce
// that every app token minted from it carries.
type Session struct {
	Nonce     string // 16 alphanumeric characters
	Identity  Identity
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while active

	// What the session's browser says: its User-Agent (at sign-in, then as
	// last seen), and when and from which address it was last seen (zero
	// and "" until then; updated at most once a minute).
	UserAgent  string
	LastSeenAt time.Time
	LastIP     string
}

// Active reports whether the session is unrevoked and unexpired at now.
func (s Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// Handoff is what the team domain leaves behind a single-use nonce for a
// protected host's /cdn-cgi/access/authorized endpoint.
type Handoff struct {
	Token          string `json:"token"`                      // the app token to set as CF_Authorization
	RedirectURL    string `json:"redirect_url"`               // sanitized path (and query) on the same host
	AppSessionHash string `json:"app_session_hash,omitempty"` // hex SHA-256 of the CF_AppSession cookie the flow started with
	MaxAge         int    `json:"max_age"`                    // cookie lifetime in seconds: the global session's remaining life
	// Binding is the raw CF_Binding cookie value /authorized sets when the
	// app uses a binding cookie; Token's binding claim is its hex SHA-256.
	Binding string `json:"binding,omitempty"`
	// Next is the rest of a multi-domain app's cookie chain, set on the
	// hand-off of the domain the sign-in started from: the absolute
	// /cdn-cgi/access/authorized URLs of the sibling domains, in order,
	// then the absolute URL to return to on the starting domain.
	Next []string `json:"next,omitempty"`
}
