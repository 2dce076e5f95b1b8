package access

import (
	"errors"
	"testing"
)

func TestCanonicalPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: "/"},
		{in: "/", want: "/"},
		{in: "/public/a", want: "/public/a"},
		{in: "/public/..\\private", want: "/private"},
		{in: "\\private", want: "/private"},
		{in: "/public\\..\\private", want: "/private"},
		{in: "/public/../private", want: "/private"},
		{in: "/public/./a/", want: "/public/a/"},
		{in: "//public//a", want: "/public/a"},
		{in: "/public/%2e%2e/private", want: "/private"},
		{in: "/public/%2E%2E/private", want: "/private"},
		{in: "/public/.%2e/private", want: "/private"},
		{in: "/%70rivate", want: "/private"},
		{in: "/public/%7Euser", want: "/public/~user"},
		{in: "/a%20b", want: "/a%20b"},
		{in: "/a%3fb", want: "/a%3Fb"},
		{in: "/../../etc/passwd", want: "/etc/passwd"},
		{in: "/public/%2f../private", bad: true},
		{in: "/public%2F..%2Fprivate", bad: true},
		{in: "/public/%5c../private", bad: true},
		{in: "/public/..;/private", bad: true},
		{in: "/public/.;/private", bad: true},
		{in: "/public/..;jsessionid=1/private", bad: true},
		{in: "/public/%2e%2e;/private", bad: true},
		{in: "/a%00b", bad: true},
		{in: "/a%0ab", bad: true},
		{in: "/a%zz", bad: true},
		{in: "/a%2", bad: true},
		{in: "/a;b/c", want: "/a;b/c"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CanonicalPath(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrAmbiguousPath) {
					t.Fatalf("CanonicalPath(%q) = %q, %v; want ErrAmbiguousPath", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CanonicalPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/public/..\\private", "/%2e%2e/x", "/a/..;/b", "/a%2fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := CanonicalPath(in)
		if err != nil {
			return
		}
		again, err := CanonicalPath(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		if got[0] != '/' {
			t.Fatalf("%q -> %q does not start with /", in, got)
		}
	})
}

// TestPlainPathAgrees: the fast path of CanonicalPath answers exactly what
// the general case answers, on paths it takes and on near misses.
func TestPlainPathAgrees(t *testing.T) {
	for _, p := range []string{
		"/", "/a", "/a/", "/dashboard", "/app.js", "/a/b.c/d", "/a-b_c~d/", "/v1.2/x",
		"//", "/a//b", "/.", "/..", "/./a", "/a/.", "/a/..", "/a/../b", "/.hidden", "/a/.b",
		"/a;b", "/a%41", "\\\\a", "/a\\\\b", "a", "", "/a b", "/a\\x00",
	} {
		t.Run(p, func(t *testing.T) {
			want, wantErr := canonicalPath(p)
			got, err := CanonicalPath(p)
			if got != want || (err == nil) != (wantErr == nil) {
				t.Fatalf("CanonicalPath(%q) = %q, %v; the general case says %q, %v", p, got, err, want, wantErr)
			}
			if plainPath(p) && (want != p || wantErr != nil) {
				t.Fatalf("plainPath(%q) but its canonical form is %q, %v", p, want, wantErr)
			}
		})
	}
}
