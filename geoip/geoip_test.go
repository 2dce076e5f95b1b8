package geoip

import (
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

func TestCountry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "country.mmdb")
	testkit.WriteCountryDB(t, path, map[string]string{
		"192.0.2.0/24":    "PT",
		"198.51.100.0/24": "US",
		"2001:db8::/32":   "FR",
	})
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	withDB, err := Open(Options{Database: path, CountryHeader: "CF-IPCountry", Trusted: trusted})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { withDB.Close() })
	headerOnly, err := Open(Options{CountryHeader: "CF-IPCountry", Trusted: trusted})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		r      *Resolver
		peer   string
		header string
		ip     string
		want   string
	}{
		{"database ipv4", withDB, "192.0.2.9:1234", "", "192.0.2.9", "PT"},
		{"database other", withDB, "198.51.100.1:1234", "", "198.51.100.1", "US"},
		{"database ipv6", withDB, "[2001:db8::1]:1234", "", "2001:db8::1", "FR"},
		{"database mapped ipv4", withDB, "192.0.2.9:1234", "", "::ffff:192.0.2.9", "PT"},
		{"not in database", withDB, "203.0.113.1:1234", "", "203.0.113.1", ""},
		{"unknown ip", withDB, "", "", "", ""},
		{"header from a trusted proxy wins", withDB, "10.0.0.1:1234", "de", "192.0.2.9", "DE"},
		{"header from a stranger ignored", withDB, "192.0.2.9:1234", "DE", "192.0.2.9", "PT"},
		{"header XX falls back to the database", withDB, "10.0.0.1:1234", "XX", "192.0.2.9", "PT"},
		{"header T1 (Tor) is no country", headerOnly, "10.0.0.1:1234", "T1", "192.0.2.9", ""},
		{"header only", headerOnly, "10.0.0.1:1234", "JP", "192.0.2.9", "JP"},
		{"header only, stranger", headerOnly, "192.0.2.9:1234", "JP", "192.0.2.9", ""},
		{"nil resolver", nil, "10.0.0.1:1234", "JP", "192.0.2.9", ""},
		{"two headers from a trusted proxy (a client's copy kept) ignored", withDB, "10.0.0.1:1234", "JP\nDE", "192.0.2.9", "PT"},
		{"two headers, header only", headerOnly, "10.0.0.1:1234", "JP\nDE", "192.0.2.9", ""},
		{"a list in one header is no country", withDB, "10.0.0.1:1234", "JP, DE", "192.0.2.9", "PT"},
		{"a long value is no country", withDB, "10.0.0.1:1234", "JPN", "192.0.2.9", "PT"},
		{"header from an IPv6 stranger ignored", withDB, "[2001:db8::1]:1234", "JP", "2001:db8::1", "FR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://app.example.com/", nil)
			req.RemoteAddr = tt.peer
			if tt.header != "" {
				for _, v := range strings.Split(tt.header, "\n") {
					req.Header.Add("Cf-Ipcountry", v)
				}
			}
			var ip netip.Addr
			if tt.ip != "" {
				ip = netip.MustParseAddr(tt.ip)
			}
			if got := tt.r.Country(req, ip); got != tt.want {
				t.Fatalf("Country = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(Options{Database: filepath.Join(t.TempDir(), "missing.mmdb")}); err == nil {
		t.Fatal("Open of a missing database succeeded")
	}
	r, err := Open(Options{})
	if err != nil || r.Enabled() {
		t.Fatalf("Open() = %v, %v; want a resolver that knows no country", r, err)
	}
}

// BenchmarkCountry is the per-request cost of a database lookup.
func BenchmarkCountry(b *testing.B) {
	path := filepath.Join(b.TempDir(), "country.mmdb")
	testkit.WriteCountryDB(b, path, map[string]string{"192.0.2.0/24": "PT", "198.51.100.0/24": "US"})
	r, err := Open(Options{Database: path})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	req := httptest.NewRequest("GET", "http://app.example.com/", nil)
	ip := netip.MustParseAddr("192.0.2.9")
	for b.Loop() {
		if r.Country(req, ip) != "PT" {
			b.Fatal("wrong country")
		}
	}
}
