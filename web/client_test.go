package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		trusted []netip.Prefix
		header  string
		xff     []string
		want    string
	}{
		{name: "peer only", remote: "203.0.113.5:1234", want: "203.0.113.5"},
		{name: "untrusted peer ignores header", remote: "203.0.113.5:1234", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"1.2.3.4"}, want: "203.0.113.5"},
		{name: "nil trusted ignores header", remote: "10.0.0.1:1", header: "X-Forwarded-For", xff: []string{"1.2.3.4"}, want: "10.0.0.1"},
		{name: "no header name", remote: "10.0.0.1:1", trusted: trusted, xff: []string{"1.2.3.4"}, want: "10.0.0.1"},
		{name: "trusted peer uses header", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "rightmost untrusted wins over spoofed left", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"6.6.6.6, 198.51.100.7, 10.0.0.2"}, want: "198.51.100.7"},
		{name: "several header lines", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"6.6.6.6", "198.51.100.7, 10.1.1.1"}, want: "198.51.100.7"},
		{name: "all trusted falls back to peer", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.1"},
		{name: "garbage falls back to peer", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"1.2.3.4, not-an-ip"}, want: "10.0.0.1"},
		{name: "empty header falls back", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For", want: "10.0.0.1"},
		{name: "ipv6 peer and client", remote: "[fd00::1]:443", trusted: trusted, header: "X-Real-IP",
			xff: []string{"2001:db8::9"}, want: "2001:db8::9"},
		{name: "entry with port", remote: "10.0.0.1:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"198.51.100.7:5555"}, want: "198.51.100.7"},
		{name: "mapped peer unmapped", remote: "[::ffff:10.0.0.1]:1", trusted: trusted, header: "X-Forwarded-For",
			xff: []string{"::ffff:198.51.100.7"}, want: "198.51.100.7"},
		{name: "peer without port", remote: "203.0.113.5", want: "203.0.113.5"},
		{name: "unparsable peer", remote: "@", want: "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add(tt.header, v)
			}
			if tt.header == "" {
				for _, v := range tt.xff {
					r.Header.Add("X-Forwarded-For", v)
				}
			}
			if got := ClientIP(r, tt.trusted, tt.header).String(); got != tt.want {
				t.Fatalf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
