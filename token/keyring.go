package token

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// keyBits is the size of the RSA signing keys Gatehouse generates.
const keyBits = 2048

// NewKey generates a fresh RSA-2048 signing key created at now.
func NewKey(now time.Time) (Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return Key{}, fmt.Errorf("token: generate key: %w", err)
	}
	return Key{ID: KeyID(&priv.PublicKey), Private: priv, CreatedAt: now}, nil
}

// KeyID returns the kid of pub: the lowercase hex SHA-256 of its PKIX DER
// encoding. It returns "" only if pub cannot be encoded (a nil or malformed
// key).
func KeyID(pub *rsa.PublicKey) string {
	if pub == nil || pub.N == nil {
		return ""
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Keyring signs with its newest key and verifies with any of its keys.
// It is immutable and safe for concurrent use; rotation builds a new one.
type Keyring struct {
	issuer  string
	signer  Key
	pubs    map[string]*rsa.PublicKey // kid → public key
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc // bound once so Verify does not allocate a closure
	certs   []byte
}

// NewKeyring returns a keyring for issuer (the team URL, no trailing slash).
// keys are ordered newest first; keys[0] signs. At least one key is required.
func NewKeyring(issuer string, keys []Key) (*Keyring, error) {
	if issuer == "" || strings.HasSuffix(issuer, "/") {
		return nil, fmt.Errorf("token: new keyring: issuer %q must be a URL without a trailing slash", issuer)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("token: new keyring: no keys")
	}
	k := &Keyring{
		issuer: issuer,
		pubs:   make(map[string]*rsa.PublicKey, len(keys)),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithStrictDecoding(),
			// Verify checks the claims itself, against the caller's now.
			jwt.WithoutClaimsValidation(),
		),
	}
	k.keyfunc = k.lookupKey
	checked := make([]Key, len(keys))
	for i, key := range keys {
		if key.Private == nil {
			return nil, fmt.Errorf("token: new keyring: key %d has no private key", i)
		}
		if n := key.Private.N.BitLen(); n < keyBits {
			return nil, fmt.Errorf("token: new keyring: key %d is %d bits, want at least %d", i, n, keyBits)
		}
		id := KeyID(&key.Private.PublicKey)
		if id == "" {
			return nil, fmt.Errorf("token: new keyring: key %d: cannot encode public key", i)
		}
		if key.ID == "" {
			key.ID = id
		} else if key.ID != id {
			return nil, fmt.Errorf("token: new keyring: key %d: id %q does not match its public key (%s)", i, key.ID, id)
		}
		if _, dup := k.pubs[id]; dup {
			return nil, fmt.Errorf("token: new keyring: duplicate key %s", id)
		}
		k.pubs[id] = &key.Private.PublicKey
		checked[i] = key
	}
	k.signer = checked[0]
	certs, err := buildCerts(checked)
	if err != nil {
		return nil, err
	}
	k.certs = certs
	return k, nil
}

// Issuer returns the iss value the keyring signs with and requires.
func (k *Keyring) Issuer() string { return k.issuer }

// CurrentKeyID returns the kid of the signing key.
func (k *Keyring) CurrentKeyID() string { return k.signer.ID }

// Sign signs c with the current key (RS256, kid header, typ JWT). It sets
// c.Issuer to the keyring's issuer.
func (k *Keyring) Sign(c *Claims) (string, error) {
	if c == nil {
		return "", fmt.Errorf("token: sign: nil claims")
	}
	if len(c.Audience) == 0 {
		return "", fmt.Errorf("token: sign: no audience")
	}
	if c.ExpiresAt == 0 {
		return "", fmt.Errorf("token: sign: no expiry")
	}
	c.Issuer = k.issuer
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = k.signer.ID
	raw, err := t.SignedString(k.signer.Private)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return raw, nil
}

// lookupKey is the jwt.Keyfunc of the keyring: the public key named by kid.
func (k *Keyring) lookupKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errMissingKid
	}
	pub, ok := k.pubs[kid]
	if !ok {
		return nil, errUnknownKid
	}
	return pub, nil
}

var (
	errMissingKid = errors.New("missing kid")
	errUnknownKid = errors.New("unknown kid")
)

// Verify parses raw and checks: alg RS256 only, a known kid, the signature,
// iss equal to the issuer, aud containing audience, exp (required, and
// refused exactly from its second on: Gatehouse issued the token itself, so
// its end needs no clock-skew allowance), nbf and iat with at most MaxSkew
// (another node's clock may run ahead), and typ equal to wantType ("" skips the type
// check). Every failure wraps ErrInvalid.
func (k *Keyring) Verify(raw, audience, wantType string, now time.Time) (*Claims, error) {
	if audience == "" {
		return nil, fmt.Errorf("token: verify: no audience to check: %w", ErrInvalid)
	}
	c := new(Claims)
	if _, err := k.parser.ParseWithClaims(raw, c, k.keyfunc); err != nil {
		return nil, fmt.Errorf("token: verify: %w: %w", ErrInvalid, err)
	}
	if err := k.checkClaims(c, audience, wantType, now, true); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyExpired is Verify without the expiry check: it accepts a token
// whose exp has passed but checks everything else (alg, kid, signature,
// iss, aud, exp present, nbf, iat, type). The proxy uses it to refresh an
// expired app token from its global session; a forged, tampered or foreign
// token still fails with ErrInvalid.
func (k *Keyring) VerifyExpired(raw, audience, wantType string, now time.Time) (*Claims, error) {
	if audience == "" {
		return nil, fmt.Errorf("token: verify: no audience to check: %w", ErrInvalid)
	}
	c := new(Claims)
	if _, err := k.parser.ParseWithClaims(raw, c, k.keyfunc); err != nil {
		return nil, fmt.Errorf("token: verify: %w: %w", ErrInvalid, err)
	}
	if err := k.checkClaims(c, audience, wantType, now, false); err != nil {
		return nil, err
	}
	return c, nil
}

// checkClaims applies the claim checks of Verify to signed claims c.
// With checkExp false, a passed exp is accepted.
func (k *Keyring) checkClaims(c *Claims, audience, wantType string, now time.Time, checkExp bool) error {
	if c.Issuer != k.issuer {
		return fmt.Errorf("token: verify: issuer %q: %w", c.Issuer, ErrInvalid)
	}
	if !c.HasAudience(audience) {
		return fmt.Errorf("token: verify: audience not accepted: %w", ErrInvalid)
	}
	if c.ExpiresAt == 0 {
		return fmt.Errorf("token: verify: missing exp: %w", ErrInvalid)
	}
	if checkExp && now.Unix() >= c.ExpiresAt {
		return fmt.Errorf("token: verify: expired: %w", ErrInvalid)
	}
	late := now.Add(MaxSkew)
	if c.NotBefore != 0 && time.Unix(c.NotBefore, 0).After(late) {
		return fmt.Errorf("token: verify: not valid yet: %w", ErrInvalid)
	}
	if c.IssuedAt != 0 && time.Unix(c.IssuedAt, 0).After(late) {
		return fmt.Errorf("token: verify: issued in the future: %w", ErrInvalid)
	}
	if wantType != "" && c.Type != wantType {
		return fmt.Errorf("token: verify: type %q, want %q: %w", c.Type, wantType, ErrInvalid)
	}
	return nil
}

// CertsJSON returns the body of /cdn-cgi/access/certs:
// {"keys":[JWK...],"public_cert":{"kid","cert"},"public_certs":[{"kid","cert"}...]}
// with public_cert the current key. Built once per keyring.
// Callers must not modify the returned slice.
func (k *Keyring) CertsJSON() []byte { return k.certs }
