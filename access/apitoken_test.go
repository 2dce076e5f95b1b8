package access

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"read", []string{"read"}, true},
		{"revoke, READ,read", []string{"read", "revoke"}, true},
		{"scim,service-tokens", []string{"service-tokens", "scim"}, true},
		{"", nil, false},
		{" , ", nil, false},
		{"read,admin", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseScopes(tc.in)
			if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseScopes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"1y", 365 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"never", 0, true},
		{"0", 0, true},
		{"-5d", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-1h", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLifetime(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseLifetime(%q) = %v, %v; want %v ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestAPITokenShapeAndState(t *testing.T) {
	good := APITokenPrefix + strings.Repeat("ab", 32)
	for s, want := range map[string]bool{good: true, good[:len(good)-1]: false, "Bearer " + good: false, APITokenPrefix + strings.Repeat("AB", 32): false} {
		if LooksLikeAPIToken(s) != want {
			t.Errorf("LooksLikeAPIToken(%q) = %v", s, !want)
		}
	}
	now := time.Unix(1_700_000_000, 0)
	tok := APIToken{Scopes: []string{ScopeRead}, ExpiresAt: now.Add(time.Hour)}
	if !tok.Usable(now) || tok.Usable(now.Add(time.Hour)) || tok.State(now.Add(time.Hour)) != "expired" {
		t.Fatal("expiry not honoured")
	}
	if !tok.HasScope(ScopeRead) || tok.HasScope(ScopeRevoke) {
		t.Fatal("scopes")
	}
	tok.RevokedAt = now
	if tok.Usable(now) || tok.State(now) != "revoked" {
		t.Fatal("revoked token usable")
	}
}
