package access

import (
	"fmt"
	"testing"
)

func TestTableMatch(t *testing.T) {
	apps := []*App{
		{Name: "exact", Domains: []string{"app.example.com"}},
		{Name: "exact-admin", Domains: []string{"app.example.com"}, Path: "/admin"},
		{Name: "exact-admin-deep", Domains: []string{"App.Example.com."}, Path: "/admin/secret/*"},
		{Name: "wild", Domains: []string{"*.example.com"}},
		{Name: "wild-api", Domains: []string{"*.example.com"}, Path: "/api/*"},
		{Name: "suffix", Domains: []string{"*foo.example.com"}},
		{Name: "port", Domains: []string{"ported.example.com:8443"}},
		{Name: "anyport", Domains: []string{"ported.example.com"}, Path: "/"},
		{Name: "multi", Domains: []string{"one.test", "two.test"}, Path: "/alpha"},
		{Name: "deep-wild", Domains: []string{"*.test.example.com"}},
		{Name: "v6", Domains: []string{"[::1]:8080"}},
	}
	tb := NewTable(apps)
	tests := []struct {
		name, host, path, want string
	}{
		{"exact root", "app.example.com", "/", "exact"},
		{"exact empty path", "app.example.com", "", "exact"},
		{"exact case and port", "APP.example.COM:443", "/x", "exact"},
		{"exact trailing dot", "app.example.com.", "/x", "exact"},
		{"trailing dot with port", "app.example.com.:8080", "/x", "exact"},
		{"longest path", "app.example.com", "/admin/users", "exact-admin"},
		{"path itself", "app.example.com", "/admin", "exact-admin"},
		{"not a segment prefix", "app.example.com", "/adminx", "exact"},
		{"star path needs child", "app.example.com", "/admin/secret", "exact-admin"},
		{"star path child", "app.example.com", "/admin/secret/x", "exact-admin-deep"},
		{"dot segments cleaned", "app.example.com", "/public/../admin/secret/x", "exact-admin-deep"},
		{"double slash cleaned", "app.example.com", "//admin", "exact-admin"},
		{"exact beats wildcard", "app.example.com", "/api/x", "exact"},
		{"wildcard one label", "b.example.com", "/", "wild"},
		{"wildcard path", "b.example.com", "/api/v1", "wild-api"},
		{"wildcard not apex", "example.com", "/", ""},
		{"wildcard not two labels", "a.b.example.com", "/", ""},
		{"label suffix exact", "foo.example.com", "/", "suffix"},
		{"label suffix longer", "alphafoo.example.com", "/", "suffix"},
		{"label suffix beats plain wildcard", "xfoo.example.com", "/api/x", "suffix"},
		{"label suffix other falls to wildcard", "foox.example.com", "/", "wild"},
		{"port required", "ported.example.com:8443", "/", "port"},
		{"port mismatch falls back", "ported.example.com:9000", "/", "anyport"},
		{"no port falls back", "ported.example.com", "/", "anyport"},
		{"multi first", "one.test", "/alpha/b", "multi"},
		{"multi second", "TWO.test", "/alpha", "multi"},
		{"multi path miss", "two.test", "/alphabet", ""},
		{"deep wildcard", "a.test.example.com", "/", "deep-wild"},
		{"deep wildcard not its apex", "test.example.com", "/", "wild"},
		{"ipv6 literal", "[::1]:8080", "/", "v6"},
		{"ipv6 wrong port", "[::1]:8081", "/", ""},
		{"unknown host", "other.org", "/", ""},
		{"empty host", "", "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tb.Match(tt.host, tt.path)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tt.want {
				t.Fatalf("Match(%q, %q) = %q, want %q", tt.host, tt.path, name, tt.want)
			}
		})
	}
}

func TestTableTies(t *testing.T) {
	a := &App{Name: "first", Domains: []string{"x.test"}}
	b := &App{Name: "second", Domains: []string{"x.test"}}
	if got := NewTable([]*App{a, b}).Match("x.test", "/"); got != a {
		t.Fatalf("tie went to %v, want the first app", got)
	}
}

func TestTableByNameApps(t *testing.T) {
	a := &App{Name: "a", Domains: []string{"a.test"}}
	b := &App{Name: "b", Domains: []string{"b.test"}}
	tb := NewTable([]*App{a, nil, b})
	if tb.ByName("b") != b || tb.ByName("a") != a || tb.ByName("c") != nil {
		t.Fatal("ByName returned the wrong app")
	}
	got := tb.Apps()
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("Apps = %v, want [a b]", got)
	}
	got[0] = nil
	if tb.Apps()[0] != a {
		t.Fatal("Apps exposes the table's slice")
	}
	var nilTable *Table
	if nilTable.Match("a.test", "/") != nil || nilTable.ByName("a") != nil || nilTable.Apps() != nil {
		t.Fatal("nil table matched something")
	}
}

func BenchmarkTableMatch(b *testing.B) {
	var apps []*App
	for i := range 1000 {
		apps = append(apps, &App{Name: fmt.Sprint(i), Domains: []string{fmt.Sprintf("app%d.example.com", i)}})
	}
	apps = append(apps, &App{Name: "wild", Domains: []string{"*.example.com"}})
	tb := NewTable(apps)
	for b.Loop() {
		if tb.Match("app500.example.com:443", "/some/path") == nil {
			b.Fatal("no match")
		}
	}
}
