package token

import (
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func sha512Sum(s string) []byte {
	sum := sha512.Sum512([]byte(s))
	return sum[:]
}

func TestNewNonce(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]{16}$`)
	seen := make(map[string]bool)
	for range 200 {
		n := NewNonce()
		if !re.MatchString(n) {
			t.Fatalf("nonce %q is not 16 alphanumerics", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

func TestRandomHex(t *testing.T) {
	tests := []struct {
		name   string
		nBytes int
	}{
		{name: "zero", nBytes: 0},
		{name: "sixteen", nBytes: 16},
		{name: "thirty-two", nBytes: 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := RandomHex(tt.nBytes)
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != tt.nBytes {
				t.Fatalf("RandomHex(%d) = %q (%v)", tt.nBytes, s, err)
			}
			if tt.nBytes > 0 && s == RandomHex(tt.nBytes) {
				t.Fatalf("RandomHex repeated %q", s)
			}
		})
	}
}

func TestTeamAudience(t *testing.T) {
	// echo -n gatehouse-team:auth.example.com | sha256sum
	want := "f83e7b561a2f81c112b9688413ad119d23297c56b587638e06edfd608dddbd1c"
	got := TeamAudience("auth.example.com")
	if len(got) != 64 {
		t.Fatalf("TeamAudience = %q", got)
	}
	if got != want {
		t.Fatalf("TeamAudience = %s, want %s", got, want)
	}
	if TeamAudience("other.example.com") == got {
		t.Fatal("TeamAudience ignores the domain")
	}
}

func TestDecode(t *testing.T) {
	kr := testKeyring(t)
	raw, err := kr.Sign(AppClaims(testIdentity(), "6ei69kawdKzMIAPF", testAud, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		raw       string
		wantErr   bool
		wantEmail string
	}{
		{name: "signed token", raw: raw, wantEmail: "user@example.com"},
		{name: "two segments", raw: "a.b", wantErr: true},
		{name: "bad base64", raw: "!!.!!.x", wantErr: true},
		{name: "not an object", raw: b64([]byte(`[1]`)) + "." + b64([]byte(`{}`)) + ".", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr, body, err := Decode(tt.raw)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if hdr["alg"] != "RS256" || body["email"] != tt.wantEmail || body["type"] != "app" {
				t.Fatalf("header %v payload %v", hdr, body)
			}
		})
	}
}

func TestOrgClaims(t *testing.T) {
	s := access.Session{Nonce: "AbCdEfGhIjKlMnOp", Identity: testIdentity(), ExpiresAt: testNow.Add(24 * time.Hour)}
	c := OrgClaims(s, "team", testNow)
	if c.Type != TypeOrg || c.IdentityNonce != s.Nonce || c.Subject != s.Identity.UserID ||
		c.Email != s.Identity.Email || c.ExpiresAt != s.ExpiresAt.Unix() ||
		c.IssuedAt != testNow.Unix() || c.NotBefore != testNow.Unix() ||
		len(c.Audience) != 1 || c.Audience[0] != "team" || c.Identity == nil || c.Identity.Email != s.Identity.Email {
		t.Fatalf("OrgClaims = %+v", c)
	}
}
