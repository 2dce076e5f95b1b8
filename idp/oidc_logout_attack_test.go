package idp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// signWith signs claims with alg and key under the header kid, embedding
// the public key as a jwk header when embed is set.
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, embed bool, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType("logout+jwt")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifyLogoutTokenForgeries throws forged logout tokens at the
// verifier: every one is an ErrInvalidToken and none uses up its jti.
func TestVerifyLogoutTokenForgeries(t *testing.T) {
	op := startFakeOP(t)
	cache := &memJTIs{}
	o := newTestOIDC(t, op, func(c *OIDCConfig) { c.LogoutReplay = cache })
	ctx := context.Background()
	der, err := x509.MarshalPKIXPublicKey(&op.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	for _, tt := range []struct {
		name  string
		token func(claims map[string]any) string
	}{
		{"HS256 keyed with the provider's public key (PEM)", func(c map[string]any) string {
			return signWith(t, jose.HS256, pubPEM, "k1", false, c)
		}},
		{"HS256 keyed with the provider's public key (DER)", func(c map[string]any) string {
			return signWith(t, jose.HS256, der, "k1", false, c)
		}},
		{"alg none with the provider's kid", func(c map[string]any) string {
			h, _ := json.Marshal(map[string]string{"alg": "none", "kid": "k1"})
			p, _ := json.Marshal(c)
			return enc(h) + "." + enc(p) + "."
		}},
		{"alg None (mixed case)", func(c map[string]any) string {
			h, _ := json.Marshal(map[string]string{"alg": "None", "kid": "k1"})
			p, _ := json.Marshal(c)
			return enc(h) + "." + enc(p) + "."
		}},
		{"a stranger's key under an unknown kid", func(c map[string]any) string {
			return signWith(t, jose.RS256, stranger, "k2", false, c)
		}},
		{"a stranger's key with no kid", func(c map[string]any) string {
			return signWith(t, jose.RS256, stranger, "", false, c)
		}},
		{"a stranger's key embedded as the jwk header", func(c map[string]any) string {
			return signWith(t, jose.RS256, stranger, "", true, c)
		}},
		{"a stranger's key with a jku header", func(c map[string]any) string {
			opts := (&jose.SignerOptions{}).WithHeader("kid", "k1").WithHeader("jku", "https://evil.example/jwks")
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: stranger}, opts)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := json.Marshal(c)
			jws, _ := signer.Sign(p)
			s, _ := jws.CompactSerialize()
			return s
		}},
		{"PS256 by the provider, an algorithm it does not publish", func(c map[string]any) string {
			return signWith(t, jose.PS256, op.key, "k1", false, c)
		}},
		{"a valid signature with a second payload appended", func(c map[string]any) string {
			return op.sign(t, c) + "." + enc([]byte(`{"sub":"admin"}`))
		}},
		{"JSON serialization instead of compact", func(c map[string]any) string {
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
			p, _ := json.Marshal(c)
			jws, _ := signer.Sign(p)
			return jws.FullSerialize()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			claims := logoutToken(op, map[string]any{"jti": "forged-" + tt.name})
			_, err := o.VerifyLogoutToken(ctx, tt.token(claims))
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			if _, err := o.VerifyLogoutToken(ctx, op.sign(t, claims)); err != nil {
				t.Errorf("the genuine token with the forged one's jti: %v", err)
			}
		})
	}
}

// TestLogoutJTIAcrossProviders: two configured providers at the same
// issuer with the same client (such as one provider listed twice with
// other claims) accept a logout token once between them; a provider at
// another issuer is not held back by a jti the first one used.
func TestLogoutJTIAcrossProviders(t *testing.T) {
	op := startFakeOP(t)
	other := startFakeOP(t)
	cache := &memJTIs{}
	ctx := context.Background()
	a := newTestOIDC(t, op, func(c *OIDCConfig) { c.LogoutReplay = cache })
	b := newTestOIDC(t, op, func(c *OIDCConfig) { c.ID, c.LogoutReplay = "corp-admins", cache })
	x := newTestOIDC(t, other, func(c *OIDCConfig) { c.ID, c.LogoutReplay = "partner", cache })
	tok := op.sign(t, logoutToken(op, map[string]any{"jti": "shared"}))
	if _, err := a.VerifyLogoutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.VerifyLogoutToken(ctx, tok); !errors.Is(err, ErrLogoutReplayed) {
		t.Errorf("the same token at the second provider of the issuer: %v, want ErrLogoutReplayed", err)
	}
	if _, err := x.VerifyLogoutToken(ctx, tok); !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrLogoutReplayed) {
		t.Errorf("the token at a provider of another issuer: %v, want refused as not its own", err)
	}
	if _, err := x.VerifyLogoutToken(ctx, other.sign(t, logoutToken(other, map[string]any{"jti": "shared"}))); err != nil {
		t.Errorf("the other issuer's own token with the same jti: %v", err)
	}
}

// TestLogoutKeysFetchedSparingly: forged logout tokens under kids the
// provider never published do not make Gatehouse fetch the provider's key
// set once each (the endpoint is open to anyone); a key the provider
// rotated in is picked up once logoutKeysRefresh has passed.
func TestLogoutKeysFetchedSparingly(t *testing.T) {
	op := startFakeOP(t)
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	o := newTestOIDC(t, op, func(c *OIDCConfig) { c.LogoutReplay = &memJTIs{}; c.Now = now })
	ctx := context.Background()
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hits := func() int { op.mu.Lock(); defer op.mu.Unlock(); return op.jwksHits }
	for i := range 50 {
		kid := fmt.Sprintf("forged-%d", i)
		if i%2 == 0 {
			kid = "k1"
		}
		tok := signWith(t, jose.RS256, stranger, kid, false, logoutToken(op, map[string]any{"jti": kid + fmt.Sprint(i)}))
		if _, err := o.VerifyLogoutToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged token %d: %v", i, err)
		}
	}
	if n := hits(); n > 1 {
		t.Errorf("50 forged tokens fetched the key set %d times, want at most once", n)
	}
	if _, err := o.VerifyLogoutToken(ctx, op.sign(t, logoutToken(op, map[string]any{"jti": "genuine"}))); err != nil {
		t.Fatalf("a genuine token after the forgeries: %v", err)
	}

	rotated, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op.mu.Lock()
	op.rotated = rotated
	op.mu.Unlock()
	mu.Lock()
	clock = clock.Add(logoutKeysRefresh + time.Second)
	mu.Unlock()
	if _, err := o.VerifyLogoutToken(ctx, signWith(t, jose.RS256, rotated, "k2", false, logoutToken(op, map[string]any{"jti": "rotated"}))); err != nil {
		t.Errorf("a token under the rotated-in key: %v", err)
	}
}

// TestLogoutKeysFetchOutlivesTheRequest: a forged token whose request is
// cancelled at once still leaves the key set fetched, so that a genuine
// token right after it verifies.
func TestLogoutKeysFetchOutlivesTheRequest(t *testing.T) {
	op := startFakeOP(t)
	o := newTestOIDC(t, op, func(c *OIDCConfig) { c.LogoutReplay = &memJTIs{} })
	if _, err := o.VerifyLogoutToken(context.Background(), "x.y.z"); err == nil {
		t.Fatal("garbage accepted") // discovers the provider
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.VerifyLogoutToken(ctx, signWith(t, jose.RS256, stranger, "nope", false, logoutToken(op, map[string]any{"jti": "forged"}))); err == nil {
		t.Fatal("forged token accepted")
	}
	if _, err := o.VerifyLogoutToken(context.Background(), op.sign(t, logoutToken(op, map[string]any{"jti": "genuine"}))); err != nil {
		t.Errorf("the genuine token right after a cancelled forgery: %v", err)
	}
}
