package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the client address: the connection's peer, or, when the
// peer is in trusted, the rightmost untrusted address of header (for example
// X-Forwarded-For). trusted may be nil.
//
// The header (all its lines, comma-separated) is walked from the right,
// skipping trusted addresses; the first untrusted address is the client. An
// unparsable entry, or a list of trusted addresses only, falls back to the
// peer. Addresses are returned unmapped and without zone; the zero Addr when
// even the peer is unknown.
func ClientIP(r *http.Request, trusted []netip.Prefix, header string) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || header == "" || !inPrefixes(trusted, peer) {
		return peer
	}
	values := r.Header.Values(header)
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			entry := strings.TrimSpace(parts[j])
			if entry == "" {
				continue
			}
			ip := parseAddr(entry)
			if !ip.IsValid() {
				return peer
			}
			if !inPrefixes(trusted, ip) {
				return ip
			}
		}
	}
	return peer
}

// parseAddr accepts "ip", "ip:port" and "[ip]:port".
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

func inPrefixes(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
