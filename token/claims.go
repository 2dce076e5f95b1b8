package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/golang-jwt/jwt/v5"
)

// Claims satisfies jwt.Claims so the jwt library can sign and parse it.
var _ jwt.Claims = (*Claims)(nil)

// HasAudience reports whether aud is one of the token's audiences.
func (c *Claims) HasAudience(aud string) bool {
	return aud != "" && slices.Contains(c.Audience, aud)
}

// GetExpirationTime returns exp, or nil when the token has none.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.ExpiresAt), nil }

// GetIssuedAt returns iat, or nil when the token has none.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt), nil }

// GetNotBefore returns nbf, or nil when the token has none.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return numericDate(c.NotBefore), nil }

// GetIssuer returns iss.
func (c *Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject returns sub.
func (c *Claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience returns aud.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings(c.Audience), nil }

func numericDate(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}

// claimsFields is Claims without its methods, so that UnmarshalJSON can
// decode into it without recursing.
type claimsFields Claims

// UnmarshalJSON decodes c, accepting aud as a single string or an array.
func (c *Claims) UnmarshalJSON(b []byte) error {
	aux := struct {
		*claimsFields
		Audience audience `json:"aud"`
	}{claimsFields: (*claimsFields)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.Audience = []string(aux.Audience)
	return nil
}

// audience is the aud claim as it may arrive: a string or an array of strings.
type audience []string

// UnmarshalJSON accepts "x", ["x", ...] and null.
func (a *audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*a = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	default:
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("token: aud must be a string or an array of strings: %w", err)
		}
		*a = list
		return nil
	}
}

// AppClaims returns the claims of an app token for id, minted from the global
// session nonce (or for a service token when nonce is ""), for the app
// audience aud, with the times of grant g.
func AppClaims(id access.Identity, nonce, aud string, g access.Grant) *Claims {
	return &Claims{
		Audience:      []string{aud},
		Email:         id.Email,
		ExpiresAt:     g.ExpiresAt,
		IssuedAt:      g.IssuedAt,
		NotBefore:     g.IssuedAt,
		Type:          TypeApp,
		IdentityNonce: nonce,
		Subject:       id.UserID,
		Country:       id.Country,
		Custom:        id.Custom,
	}
}

// OrgClaims returns the claims of the global session token for s; aud is the
// team audience (a 64-hex value derived from the team domain).
func OrgClaims(s access.Session, aud string, now time.Time) *Claims {
	t := now.Unix()
	return &Claims{
		Audience:      []string{aud},
		Email:         s.Identity.Email,
		ExpiresAt:     s.ExpiresAt.Unix(),
		IssuedAt:      t,
		NotBefore:     t,
		Type:          TypeOrg,
		IdentityNonce: s.Nonce,
		Subject:       s.Identity.UserID,
		Identity:      &s.Identity,
	}
}
