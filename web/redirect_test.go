package web

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanPathRefuses(t *testing.T) {
	tests := []struct {
		name, target string
	}{
		{"protocol-relative", "//evil.com"},
		{"triple slash", "///evil.com"},
		{"slash backslash", "/\\evil.com"},
		{"double backslash", "\\\\evil.com"},
		{"backslash later", "/a\\b"},
		{"scheme with one slash", "https:/evil.com"},
		{"absolute URL", "https://evil.com"},
		{"absolute http URL", "http://evil.com/a"},
		{"scheme without slashes", "http:evil.com"},
		{"javascript", "javascript:alert(1)"},
		{"javascript mixed case", "JaVaScRiPt:alert(1)"},
		{"javascript after slash trick", "/javascript:alert(1)/../../\\evil"},
		{"data URL", "data:text/html,<script>alert(1)</script>"},
		{"vbscript", "vbscript:msgbox(1)"},
		{"encoded double slash", "/%2F%2Fevil.com"},
		{"encoded slash lower", "/%2fevil.com"},
		{"encoded backslash", "/%5Cevil.com"},
		{"encoded backslash lower", "/%5cevil.com"},
		{"double-encoded slash", "/%252Fevil.com"},
		{"encoded slash after dot segment", "/./%2Fevil.com"},
		{"encoded slash after parent segment", "/a/../%2F%2Fevil.com"},
		{"encoded dot segment", "/%2e%2e/%2Fevil"},
		{"encoded dot", "/a/%2E/b"},
		{"userinfo", "//user@evil.com"},
		{"userinfo with password", "//user:pw@evil.com/"},
		{"NUL", "/path\x00"},
		{"encoded NUL", "/path%00"},
		{"tab in scheme-relative", "/\t/evil.com"},
		{"newline header injection", "/a\r\nSet-Cookie: x=1"},
		{"newline only", "/a\nb"},
		{"DEL", "/a\x7f"},
		{"control in query", "/a?x=\x01"},
		{"encoded newline in path", "/a%0d%0aSet-Cookie:x"},
		{"overlong", "/" + strings.Repeat("a", MaxRedirectLen)},
		{"relative", "foo"},
		{"relative dot", "./foo"},
		{"relative parent", "../foo"},
		{"query only", "?x=1"},
		{"fragment only", "#frag"},
		{"bad percent-encoding", "/a%zz"},
		{"truncated percent", "/a%"},
		{"space then slashes", " //evil.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanPath(tt.target)
			if !errors.Is(err, ErrBadRedirect) {
				t.Fatalf("CleanPath(%q) = %q, %v; want ErrBadRedirect", tt.target, got, err)
			}
			if got != "" {
				t.Fatalf("CleanPath(%q) returned %q with an error", tt.target, got)
			}
		})
	}
}

func TestCleanPathAccepts(t *testing.T) {
	tests := []struct {
		name, target, want string
	}{
		{"empty", "", "/"},
		{"root", "/", "/"},
		{"path and query", "/a/b?x=1&y=%2F", "/a/b?x=1&y=%2F"},
		{"fragment dropped", "/a#frag", "/a"},
		{"fragment after query", "/a?x=1#frag", "/a?x=1"},
		{"dot dot", "/a/../b", "/b"},
		{"dot dot keeps trailing slash", "/a/../b/", "/b/"},
		{"dot", "/a/./b", "/a/b"},
		{"above root", "/../../a", "/a"},
		{"repeated slashes inside", "/a//b", "/a/b"},
		{"encoded slash inside kept", "/a/b%2Fc", "/a/b%2Fc"},
		{"encoded dot in name", "/file%2Etxt", "/file%2Etxt"},
		{"colon in later segment", "/a:b/c", "/a:b/c"},
		{"unicode escaped", "/café", "/caf%C3%A9"},
		{"query spaces escaped", "/s?q=a b", "/s?q=a%20b"},
		{"query quote escaped", "/s?q=\"<x>", "/s?q=%22%3Cx%3E"},
		{"empty query dropped", "/a?", "/a"},
		{"query with slashes", "/login?next=//evil.com", "/login?next=//evil.com"},
		{"max length", "/" + strings.Repeat("a", MaxRedirectLen-1), "/" + strings.Repeat("a", MaxRedirectLen-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanPath(tt.target)
			if err != nil {
				t.Fatalf("CleanPath(%q): %v", tt.target, err)
			}
			if got != tt.want {
				t.Fatalf("CleanPath(%q) = %q, want %q", tt.target, got, tt.want)
			}
		})
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "//evil.com", "/%2F%2Fevil", "/a/../b?x=1#f", "/\\x", "/%252F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		got, err := CleanPath(target)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\#\r\n\t\x00") {
			t.Fatalf("CleanPath(%q) = %q", target, got)
		}
		again, err := CleanPath(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", target, got, again, err)
		}
	})
}
