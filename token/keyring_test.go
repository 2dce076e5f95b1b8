package token

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

const (
	testIssuer = "https://auth.example.com"
	testAud    = "32eafc76a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
)

var testNow = time.Unix(1_700_000_000, 0)

// Generating RSA keys is slow; the tests share two.
var (
	keysOnce sync.Once
	keyA     Key
	keyB     Key
)

func testKeys(t testing.TB) (Key, Key) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if keyA, err = NewKey(testNow); err != nil {
			panic(err)
		}
		if keyB, err = NewKey(testNow.Add(-6 * 7 * 24 * time.Hour)); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

func testKeyring(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	if len(keys) == 0 {
		a, _ := testKeys(t)
		keys = []Key{a}
	}
	kr, err := NewKeyring(testIssuer, keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func testIdentity() access.Identity {
	return access.Identity{
		UserID:  "7335d417-61da-459d-899c-0a01c76a2f94",
		Email:   "user@example.com",
		Country: "US",
		Custom:  map[string]any{"dept": "eng"},
		IdP:     access.IdP{ID: "pin", Type: "onetimepin"},
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// rsaToken signs header and payload by hand with priv (RS256).
func rsaToken(t *testing.T, priv *rsa.PrivateKey, header, payload any) string {
	t.Helper()
	signing := b64JSON(t, header) + "." + b64JSON(t, payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64(sig)
}

// hmacToken signs header and payload by hand with HS256 and secret.
func hmacToken(t *testing.T, secret []byte, header, payload any) string {
	t.Helper()
	signing := b64JSON(t, header) + "." + b64JSON(t, payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + b64(mac.Sum(nil))
}

// payload returns valid app claims as a map, with overrides applied
// (a nil value deletes the claim).
func payload(overrides map[string]any) map[string]any {
	p := map[string]any{
		"aud": []string{testAud}, "email": "user@example.com",
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Unix(), "nbf": testNow.Unix(),
		"iss": testIssuer, "type": "app", "identity_nonce": "6ei69kawdKzMIAPF",
		"sub": "7335d417-61da-459d-899c-0a01c76a2f94",
	}
	for k, v := range overrides {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

func TestKeyID(t *testing.T) {
	a, _ := testKeys(t)
	der, err := x509.MarshalPKIXPublicKey(&a.Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	want := hex.EncodeToString(sum[:])
	if a.ID != want || KeyID(&a.Private.PublicKey) != want {
		t.Fatalf("ID = %q, KeyID = %q, want %q", a.ID, KeyID(&a.Private.PublicKey), want)
	}
	if n := a.Private.N.BitLen(); n != 2048 {
		t.Fatalf("key is %d bits", n)
	}
	if !a.CreatedAt.Equal(testNow) {
		t.Fatalf("CreatedAt = %v", a.CreatedAt)
	}
}

func TestNewKeyringRejects(t *testing.T) {
	a, b := testKeys(t)
	wrongID := a
	wrongID.ID = b.ID
	tests := []struct {
		name   string
		issuer string
		keys   []Key
	}{
		{name: "no keys", issuer: testIssuer},
		{name: "empty issuer", issuer: "", keys: []Key{a}},
		{name: "trailing slash", issuer: testIssuer + "/", keys: []Key{a}},
		{name: "nil private key", issuer: testIssuer, keys: []Key{{ID: a.ID}}},
		{name: "id mismatch", issuer: testIssuer, keys: []Key{wrongID}},
		{name: "duplicate", issuer: testIssuer, keys: []Key{a, a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.issuer, tt.keys); err == nil {
				t.Fatal("NewKeyring succeeded")
			}
		})
	}
}

func TestSignHeaderAndPayload(t *testing.T) {
	kr := testKeyring(t)
	c := AppClaims(testIdentity(), "6ei69kawdKzMIAPF", testAud, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()})
	raw, err := kr.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != testIssuer {
		t.Fatalf("Sign did not set Issuer: %q", c.Issuer)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	wantHdr := `{"alg":"RS256","kid":"` + kr.CurrentKeyID() + `","typ":"JWT"}`
	if string(hdr) != wantHdr {
		t.Fatalf("header = %s, want %s", hdr, wantHdr)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"aud":["` + testAud + `"]`,
		`"exp":1700003600`, `"iat":1700000000`, `"nbf":1700000000`,
		`"iss":"` + testIssuer + `"`, `"type":"app"`, `"identity_nonce":"6ei69kawdKzMIAPF"`,
		`"sub":"7335d417-61da-459d-899c-0a01c76a2f94"`, `"country":"US"`, `"custom":{"dept":"eng"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("payload %s lacks %s", body, want)
		}
	}
	if _, err := kr.Sign(&Claims{ExpiresAt: 1}); err == nil {
		t.Error("Sign without audience succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	kr := testKeyring(t)
	s := access.Session{Nonce: "AbCdEfGhIjKlMnOp", Identity: testIdentity(), ExpiresAt: testNow.Add(24 * time.Hour)}
	teamAud := TeamAudience("auth.example.com")
	tests := []struct {
		name     string
		claims   *Claims
		aud      string
		wantType string
	}{
		{name: "app", claims: AppClaims(testIdentity(), "6ei69kawdKzMIAPF", testAud, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()}), aud: testAud, wantType: TypeApp},
		{name: "app any type", claims: AppClaims(testIdentity(), "6ei69kawdKzMIAPF", testAud, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()}), aud: testAud},
		{name: "org", claims: OrgClaims(s, teamAud, testNow), aud: teamAud, wantType: TypeOrg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := kr.Sign(tt.claims)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kr.Verify(raw, tt.aud, tt.wantType, testNow.Add(30*time.Second))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want, _ := json.Marshal(tt.claims)
			have, _ := json.Marshal(got)
			if string(want) != string(have) {
				t.Fatalf("claims changed:\n got %s\nwant %s", have, want)
			}
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	a, b := testKeys(t)
	kr := testKeyring(t, a)
	hdr := map[string]any{"alg": "RS256", "kid": a.ID, "typ": "JWT"}
	pubDER, err := x509.MarshalPKIXPublicKey(&a.Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsHdr := map[string]any{"alg": "HS256", "kid": a.ID, "typ": "JWT"}

	good := rsaToken(t, a.Private, hdr, payload(nil))
	if _, err := kr.Verify(good, testAud, TypeApp, testNow); err != nil {
		t.Fatalf("hand-built good token refused: %v", err)
	}
	gp := strings.Split(good, ".")
	tampered := gp[0] + "." + b64JSON(t, payload(map[string]any{"email": "admin@example.com"})) + "." + gp[2]

	tests := []struct {
		name     string
		raw      string
		aud      string
		wantType string
		now      time.Time
	}{
		{name: "alg none", raw: b64JSON(t, map[string]any{"alg": "none", "kid": a.ID}) + "." + b64JSON(t, payload(nil)) + "."},
		{name: "HS256 with PEM public key", raw: hmacToken(t, pubPEM, hsHdr, payload(nil))},
		{name: "HS256 with DER public key", raw: hmacToken(t, pubDER, hsHdr, payload(nil))},
		{name: "RS512", raw: func() string {
			signing := b64JSON(t, map[string]any{"alg": "RS512", "kid": a.ID}) + "." + b64JSON(t, payload(nil))
			sum := sha512Sum(signing)
			sig, err := rsa.SignPKCS1v15(nil, a.Private, crypto.SHA512, sum)
			if err != nil {
				t.Fatal(err)
			}
			return signing + "." + b64(sig)
		}()},
		{name: "missing kid", raw: rsaToken(t, a.Private, map[string]any{"alg": "RS256"}, payload(nil))},
		{name: "unknown kid", raw: rsaToken(t, b.Private, map[string]any{"alg": "RS256", "kid": b.ID}, payload(nil))},
		{name: "signed by other key under our kid", raw: rsaToken(t, b.Private, hdr, payload(nil))},
		{name: "tampered payload", raw: tampered},
		{name: "truncated", raw: gp[0] + "." + gp[1]},
		{name: "garbage", raw: "not-a-token"},
		{name: "other aud", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"aud": []string{"other"}}))},
		{name: "empty audience argument", raw: good, aud: "-"},
		{name: "wrong iss", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"iss": "https://evil.example.com"}))},
		{name: "iss trailing slash", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"iss": testIssuer + "/"}))},
		{name: "missing exp", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"exp": nil}))},
		{name: "expired", raw: good, now: testNow.Add(time.Hour + MaxSkew + time.Second)},
		{name: "at exp exactly", raw: good, now: testNow.Add(time.Hour)},
		{name: "within what used to be the skew", raw: good, now: testNow.Add(time.Hour + 30*time.Second)},
		{name: "nbf in future", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"nbf": testNow.Add(2 * MaxSkew).Unix()}))},
		{name: "iat in future", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"iat": testNow.Add(2 * MaxSkew).Unix()}))},
		{name: "wrong type", raw: good, wantType: TypeOrg},
		{name: "aud not a string", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"aud": 42}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aud := tt.aud
			switch aud {
			case "":
				aud = testAud
			case "-":
				aud = ""
			}
			wantType := tt.wantType
			if wantType == "" {
				wantType = TypeApp
			}
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			c, err := kr.Verify(tt.raw, aud, wantType, now)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", c)
			}
			t.Logf("refused: %v", err)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if c != nil {
				t.Fatalf("Verify returned claims with an error")
			}
			c, err = kr.VerifyExpired(tt.raw, aud, wantType, now)
			if strings.HasPrefix(tt.name, "expired") || tt.name == "at exp exactly" || tt.name == "within what used to be the skew" {
				if err != nil {
					t.Fatalf("VerifyExpired refused an expired but genuine token: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || c != nil {
				t.Fatalf("VerifyExpired = %+v, %v; want ErrInvalid", c, err)
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	a, _ := testKeys(t)
	kr := testKeyring(t, a)
	hdr := map[string]any{"alg": "RS256", "kid": a.ID, "typ": "JWT"}
	tests := []struct {
		name string
		raw  string
		now  time.Time
	}{
		{name: "aud as plain string", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"aud": testAud}))},
		{name: "aud among several", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"aud": []string{"x", testAud}}))},
		{name: "no typ header", raw: rsaToken(t, a.Private, map[string]any{"alg": "RS256", "kid": a.ID}, payload(nil))},
		{name: "no nbf", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"nbf": nil}))},
		{name: "a second before exp", raw: rsaToken(t, a.Private, hdr, payload(nil)), now: testNow.Add(time.Hour - time.Second)},
		{name: "nbf within skew", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"nbf": testNow.Add(MaxSkew).Unix(), "iat": testNow.Add(MaxSkew).Unix()}))},
		{name: "unknown claims ignored", raw: rsaToken(t, a.Private, hdr, payload(map[string]any{"policy_id": "p", "h_INTERNAL_DO_NOT_USE": "h"}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			c, err := kr.Verify(tt.raw, testAud, TypeApp, now)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !c.HasAudience(testAud) || c.Email != "user@example.com" {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestTwoKeyKeyring(t *testing.T) {
	a, b := testKeys(t)
	oldRing := testKeyring(t, b)
	newRing := testKeyring(t, a, b)
	if newRing.CurrentKeyID() != a.ID {
		t.Fatalf("signing key = %s, want the first key %s", newRing.CurrentKeyID(), a.ID)
	}
	tests := []struct {
		name   string
		signer *Keyring
		kid    string
	}{
		{name: "token of previous key", signer: oldRing, kid: b.ID},
		{name: "token of current key", signer: newRing, kid: a.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.signer.Sign(AppClaims(testIdentity(), "n", testAud, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()}))
			if err != nil {
				t.Fatal(err)
			}
			hdr, _, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if hdr["kid"] != tt.kid {
				t.Fatalf("kid = %v, want %s", hdr["kid"], tt.kid)
			}
			if _, err := newRing.Verify(raw, testAud, TypeApp, testNow); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestClaimsAudienceJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "string", in: `{"aud":"a"}`, want: []string{"a"}},
		{name: "array", in: `{"aud":["a","b"]}`, want: []string{"a", "b"}},
		{name: "null", in: `{"aud":null}`},
		{name: "missing", in: `{}`},
		{name: "number", in: `{"aud":1}`, wantErr: true},
		{name: "array of numbers", in: `{"aud":[1]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Claims
			err := json.Unmarshal([]byte(tt.in), &c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if strings.Join(c.Audience, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("aud = %q, want %q", c.Audience, tt.want)
			}
		})
	}
	var c Claims
	if err := json.Unmarshal([]byte(`{"aud":"a","email":"e@x","exp":5,"type":"app"}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Email != "e@x" || c.ExpiresAt != 5 || c.Type != "app" {
		t.Fatalf("other fields lost: %+v", c)
	}
	out, _ := json.Marshal(&c)
	if !strings.Contains(string(out), `"aud":["a"]`) {
		t.Fatalf("aud not emitted as array: %s", out)
	}
}

func BenchmarkVerify(b *testing.B) {
	kr := testKeyring(b)
	raw, err := kr.Sign(AppClaims(testIdentity(), "6ei69kawdKzMIAPF", testAud, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(raw, testAud, TypeApp, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
