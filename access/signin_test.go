package access

import (
	"errors"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ann@example.com", "ann@example.com"},
		{"  Ann@Example.COM ", "ann@example.com"},
		{"Ålice@Example.com", "ålice@example.com"}, // a real non-ASCII address stays allowed
	} {
		if got, err := NormalizeEmail(tt.in); err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "ann.example.com", "Ann <ann@example.com>", "a@example.com, b@example.com", "ann@",
		"\u212Aate@example.com",   // KELVIN SIGN: would lower-case to kate@example.com
		"\u017Fam@example.com",    // LONG S: equal to sam@example.com under case folding
		"alice@example.com\u200b", // ZERO WIDTH SPACE: invisible
		"alice\u00a0@example.com", // NO-BREAK SPACE
		"al\u200dice@example.com", // ZERO WIDTH JOINER
	} {
		if got, err := NormalizeEmail(in); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
		}
	}
}
