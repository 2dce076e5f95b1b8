package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// logoutKeysRefresh is the least time between two fetches of a provider's
// key set for logout tokens. The back-channel logout endpoint is open to
// anyone, and a token naming a key Gatehouse does not hold would otherwise
// make it fetch the provider's JWKS once per request.
const logoutKeysRefresh = 10 * time.Second

// maxJWKSBody bounds a provider's key set document, and jwksTimeout its
// fetch.
const (
	maxJWKSBody = 1 << 20
	jwksTimeout = 10 * time.Second
)

// asymmetricAlgs are the signature algorithms a logout token may use: never
// none, never an HMAC (whose key would be the client secret or, confused,
// a public key).
var asymmetricAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// logoutKeys is an oidc.KeySet over the provider's jwks_uri that fetches
// the set at most once per logoutKeysRefresh: the first token, then any
// token the set held does not verify, may fetch it.
type logoutKeys struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time // zero: never
}

// VerifySignature implements oidc.KeySet.
func (k *logoutKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, asymmetricAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed signature: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	defer k.mu.Unlock()
	if payload := verifyWith(jws, kid, k.keys); payload != nil {
		return payload, nil
	}
	if !k.fetched.IsZero() && k.now().Sub(k.fetched) < logoutKeysRefresh {
		return nil, errors.New("failed to verify the signature (keys fetched moments ago)")
	}
	// The fetch outlives the request that asked for it: a client hanging
	// up must not leave the set unfetched for the next logoutKeysRefresh.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksTimeout)
	defer cancel()
	keys, err := k.fetch(fctx)
	k.fetched = k.now()
	if err != nil {
		return nil, fmt.Errorf("fetching keys: %w", err)
	}
	k.keys = keys
	if payload := verifyWith(jws, kid, keys); payload != nil {
		return payload, nil
	}
	return nil, errors.New("failed to verify the signature")
}

// verifyWith verifies jws with the key kid of keys (any key when kid is
// ""), returning the payload, or nil.
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) []byte {
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if p, err := jws.Verify(&key); err == nil {
			return p
		}
	}
	return nil
}

// fetch reads the key set, skipping keys that are not public signing keys
// it can use.
func (k *logoutKeys) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", k.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody))
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", k.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// logoutVerifier is the verifier of p's logout tokens: its issuer, the
// client id, the asymmetric algorithms p publishes for ID tokens (RS256
// when it names none), and the throttled key set, made once.
func (o *OIDC) logoutVerifier(p *oidc.Provider) (*oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.logoutKeys == nil {
		var m struct {
			JWKS string   `json:"jwks_uri"`
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		if err := p.Claims(&m); err != nil || m.JWKS == "" {
			return nil, fmt.Errorf("idp: oidc %s: discovery has no jwks_uri", o.cfg.ID)
		}
		for _, a := range m.Algs {
			if slices.Contains(asymmetricAlgs, jose.SignatureAlgorithm(a)) {
				o.logoutAlgs = append(o.logoutAlgs, a)
			}
		}
		if len(o.logoutAlgs) == 0 {
			o.logoutAlgs = []string{oidc.RS256}
		}
		o.logoutKeys = &logoutKeys{url: m.JWKS, client: o.cfg.HTTPClient, now: o.cfg.Now}
	}
	return oidc.NewVerifier(o.cfg.Issuer, o.logoutKeys, &oidc.Config{
		ClientID: o.cfg.ClientID, SupportedSigningAlgs: o.logoutAlgs, SkipExpiryCheck: true, Now: o.cfg.Now,
	}), nil
}
