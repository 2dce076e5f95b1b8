package token

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse-dev/gatehouse/access"
)

func TestCertsJSON(t *testing.T) {
	a, b := testKeys(t)
	kr := testKeyring(t, a, b)
	body := kr.CertsJSON()

	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range top {
		names = append(names, k)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"keys", "public_cert", "public_certs"}) {
		t.Fatalf("top-level fields = %v", names)
	}
	var raw struct {
		Keys        []map[string]string `json:"keys"`
		PublicCert  map[string]string   `json:"public_cert"`
		PublicCerts []map[string]string `json:"public_certs"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	keys := []Key{a, b}
	if len(raw.Keys) != 2 || len(raw.PublicCerts) != 2 {
		t.Fatalf("%d keys, %d certs; want 2 each", len(raw.Keys), len(raw.PublicCerts))
	}
	if raw.PublicCert["kid"] != a.ID || raw.PublicCert["cert"] != raw.PublicCerts[0]["cert"] {
		t.Fatalf("public_cert is not the current key: %v", raw.PublicCert["kid"])
	}
	for i, key := range keys {
		t.Run(key.ID[:8], func(t *testing.T) {
			jwk := raw.Keys[i]
			if len(jwk) != 6 || jwk["kid"] != key.ID || jwk["kty"] != "RSA" || jwk["alg"] != "RS256" || jwk["use"] != "sig" || jwk["e"] != "AQAB" {
				t.Fatalf("jwk = %v", jwk)
			}
			nb, err := base64.RawURLEncoding.DecodeString(jwk["n"])
			if err != nil {
				t.Fatalf("n is not unpadded base64url: %v", err)
			}
			eb, err := base64.RawURLEncoding.DecodeString(jwk["e"])
			if err != nil {
				t.Fatal(err)
			}
			jwkPub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
			if !jwkPub.Equal(&key.Private.PublicKey) {
				t.Fatal("jwk does not match the key")
			}

			pc := raw.PublicCerts[i]
			if pc["kid"] != key.ID {
				t.Fatalf("public_certs[%d].kid = %s", i, pc["kid"])
			}
			block, rest := pem.Decode([]byte(pc["cert"]))
			if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
				t.Fatalf("cert is not one PEM certificate: %q", pc["cert"])
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			certPub, ok := cert.PublicKey.(*rsa.PublicKey)
			if !ok || !certPub.Equal(jwkPub) {
				t.Fatal("certificate key does not match the jwk")
			}
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Fatalf("certificate is not self-signed: %v", err)
			}
			if cert.Subject.CommonName != "Gatehouse signing key" {
				t.Fatalf("CN = %q", cert.Subject.CommonName)
			}
			if !cert.NotBefore.Equal(key.CreatedAt.Add(-time.Hour)) || cert.NotAfter.Sub(cert.NotBefore) < 3650*24*time.Hour {
				t.Fatalf("validity %v – %v", cert.NotBefore, cert.NotAfter)
			}
		})
	}
	again := testKeyring(t, a, b).CertsJSON()
	if string(again) != string(body) {
		t.Fatal("CertsJSON is not deterministic for the same keys")
	}
}

// TestGoOIDCCompatibility validates a Gatehouse app token the way origins are
// told to validate Access tokens: go-oidc with a remote key set on the certs URL.
func TestGoOIDCCompatibility(t *testing.T) {
	a, b := testKeys(t)
	kr := testKeyring(t, a, b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(kr.CertsJSON())
	}))
	defer srv.Close()

	now := time.Now() // go-oidc checks exp against the real clock
	raw, err := kr.Sign(AppClaims(testIdentity(), NewNonce(), testAud, access.Grant{IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	prev, err := testKeyring(t, b).Sign(AppClaims(testIdentity(), NewNonce(), testAud, access.Grant{IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keySet := oidc.NewRemoteKeySet(ctx, srv.URL)
	tests := []struct {
		name    string
		raw     string
		aud     string
		issuer  string
		wantErr bool
	}{
		{name: "app token", raw: raw, aud: testAud, issuer: testIssuer},
		{name: "token of previous key", raw: prev, aud: testAud, issuer: testIssuer},
		{name: "other aud", raw: raw, aud: TeamAudience("x"), issuer: testIssuer, wantErr: true},
		{name: "other issuer", raw: raw, aud: testAud, issuer: "https://other.example.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := oidc.NewVerifier(tt.issuer, keySet, &oidc.Config{ClientID: tt.aud})
			tok, err := v.Verify(ctx, tt.raw)
			if tt.wantErr {
				if err == nil {
					t.Fatal("go-oidc accepted the token")
				}
				return
			}
			if err != nil {
				t.Fatalf("go-oidc refused the token: %v", err)
			}
			var c struct {
				Email string `json:"email"`
				Type  string `json:"type"`
			}
			if err := tok.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Email != "user@example.com" || c.Type != TypeApp || tok.Subject != testIdentity().UserID {
				t.Fatalf("claims = %+v, sub %q", c, tok.Subject)
			}
		})
	}
}
