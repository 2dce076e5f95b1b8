package access

import (
	"crypto/sha256"
	"encoding/hex"
)

// IdentityDoc is the one get-identity JSON shape, on the team domain and on
// every protected host, with the fields of the Cloudflare Access reference
// (§2.6) that Gatehouse knows.
type IdentityDoc struct {
	ID            string         `json:"id"` // the user's stable id (user_uuid)
	Name          string         `json:"name,omitempty"`
	Email         string         `json:"email"`
	AMR           []string       `json:"amr"`
	Groups        []string       `json:"groups"`
	IdP           IdP            `json:"idp"`
	Geo           Geo            `json:"geo"`
	UserUUID      string         `json:"user_uuid"`
	AccountID     string         `json:"account_id"`
	IAT           int64          `json:"iat"`
	IP            string         `json:"ip,omitempty"`
	Custom        map[string]any `json:"custom,omitempty"`
	IdentityNonce string         `json:"identity_nonce,omitempty"`
	// CommonName and ServiceTokenID are set for a service token's identity
	// (no email, no user).
	CommonName     string `json:"common_name,omitempty"`
	ServiceTokenID string `json:"service_token_id,omitempty"`
}

// Geo is the geography of a sign-in.
type Geo struct {
	Country string `json:"country,omitempty"`
}

// AccountID is the stable identifier of a Gatehouse installation, from its
// team domain: the first 32 hex of SHA-256("gatehouse-account:" + domain).
func AccountID(teamDomain string) string {
	sum := sha256.Sum256([]byte("gatehouse-account:" + teamDomain))
	return hex.EncodeToString(sum[:16])
}

// Doc returns the get-identity document of the session s.
func (s Session) Doc(accountID string) IdentityDoc {
	id := s.Identity
	groups := id.Groups
	if groups == nil {
		groups = []string{}
	}
	amr := id.AMR
	if amr == nil {
		amr = []string{}
	}
	return IdentityDoc{
		ID: id.UserID, Name: id.Name, Email: id.Email, AMR: amr, Groups: groups, IdP: id.IdP,
		Geo: Geo{Country: id.Country}, UserUUID: id.UserID, AccountID: accountID, IAT: id.IssuedAt,
		IP: id.IP, Custom: id.Custom, IdentityNonce: s.Nonce,
	}
}

// ServiceDoc returns the get-identity document of a service token's app
// token.
func ServiceDoc(clientID string, iat int64, accountID string) IdentityDoc {
	return IdentityDoc{AMR: []string{}, Groups: []string{}, AccountID: accountID, IAT: iat,
		CommonName: clientID, ServiceTokenID: clientID}
}
