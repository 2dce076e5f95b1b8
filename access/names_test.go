package access

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "/api", 200, "/api"},
		{"exact", "abcd", 4, "abcd"},
		{"cut", "abcdefgh", 6, "abc…"},
		{"on a rune boundary", "ééééé", 7, "éé…"}, // é is 2 bytes, … 3
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clip(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if len(got) > tt.n {
				t.Errorf("Clip(%q, %d) = %d bytes", tt.in, tt.n, len(got))
			}
		})
	}
	long := strings.Repeat("日本", 400)
	if got := Clip(long, 512); len(got) > 512 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("Clip of a long string: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestCertNameMatches(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"app.example.com", "app.example.com", true},
		{"*.example.com", "app.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"app.example.com", "other.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.host, func(t *testing.T) {
			if got := CertNameMatches(tt.pattern, tt.host); got != tt.want {
				t.Errorf("CertNameMatches = %v, want %v", got, tt.want)
			}
		})
	}
}
