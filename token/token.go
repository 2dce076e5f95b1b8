// Package token mints and verifies the RS256 JWTs Gatehouse issues, in the
// shape Cloudflare Access uses, and publishes the signing keys.
package token

import (
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Token types.
const (
	TypeApp = "app" // application token, on a protected host
	TypeOrg = "org" // global session token, on the team domain only
)

// MaxSkew is the clock skew tolerated on nbf and iat (never on exp).
const MaxSkew = 60 * time.Second

// ErrInvalid is wrapped by every verification failure.
var ErrInvalid = errors.New("token: invalid token")

// Claims are the claims of app and org tokens (reference §2.2-2.4).
// aud is always emitted as an array and accepted as a string or an array.
type Claims struct {
	Audience      []string         `json:"aud"`
	Email         string           `json:"email,omitempty"`
	ExpiresAt     int64            `json:"exp"`
	IssuedAt      int64            `json:"iat"`
	NotBefore     int64            `json:"nbf,omitempty"`
	Issuer        string           `json:"iss"`
	Type          string           `json:"type"`
	IdentityNonce string           `json:"identity_nonce,omitempty"`
	Subject       string           `json:"sub"`
	Country       string           `json:"country,omitempty"`
	Custom        map[string]any   `json:"custom,omitempty"`
	CommonName    string           `json:"common_name,omitempty"` // service tokens: the client ID
	Binding       string           `json:"binding,omitempty"`     // hex SHA-256 of the CF_Binding cookie, when bound
	Identity      *access.Identity `json:"identity,omitempty"`    // org tokens only
}

// Key is an RSA-2048 signing key (access.SigningKey, which the store keeps).
type Key = access.SigningKey
