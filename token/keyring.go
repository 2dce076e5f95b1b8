package token

import "time"

// NewKey generates a fresh RSA-2048 signing key created at now.
func NewKey(now time.Time) (Key, error) { panic("unimplemented") }

// Keyring signs with its newest key and verifies with any of its keys.
// It is immutable and safe for concurrent use; rotation builds a new one.
type Keyring struct{}

// NewKeyring returns a keyring for issuer (the team URL, no trailing slash).
// keys are ordered newest first; keys[0] signs. At least one key is required.
func NewKeyring(issuer string, keys []Key) (*Keyring, error) { panic("unimplemented") }

// Issuer returns the iss value the keyring signs with and requires.
func (k *Keyring) Issuer() string { panic("unimplemented") }

// Sign signs c with the current key (RS256, kid header, typ JWT). It sets
// c.Issuer to the keyring's issuer.
func (k *Keyring) Sign(c *Claims) (string, error) { panic("unimplemented") }

// Verify parses raw and checks: alg RS256 only, a known kid, the signature,
// iss equal to the issuer, aud containing audience, exp (required), nbf and
// iat with at most MaxSkew, and typ equal to wantType ("" skips the type
// check). Every failure wraps ErrInvalid.
func (k *Keyring) Verify(raw, audience, wantType string, now time.Time) (*Claims, error) {
	panic("unimplemented")
}

// CertsJSON returns the body of /cdn-cgi/access/certs:
// {"keys":[JWK...],"public_cert":{"kid","cert"},"public_certs":[{"kid","cert"}...]}
// with public_cert the current key. Built once per keyring.
func (k *Keyring) CertsJSON() []byte { panic("unimplemented") }

// AppClaims returns the claims of an app token for id, minted from the global
// session nonce, for the app audience aud, valid for ttl from now.
func AppClaims(id Identity, nonce, aud string, now time.Time, ttl time.Duration) *Claims {
	panic("unimplemented")
}

// OrgClaims returns the claims of the global session token for s; aud is the
// team audience (a 64-hex value derived from the team domain).
func OrgClaims(s Session, aud string, now time.Time) *Claims { panic("unimplemented") }
