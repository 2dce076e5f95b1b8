package web

import (
	"net/http"
	"net/netip"
)

// ClientIP returns the client address: the connection's peer, or, when the
// peer is in trusted, the rightmost untrusted address of header (for example
// X-Forwarded-For). trusted may be nil.
func ClientIP(r *http.Request, trusted []netip.Prefix, header string) netip.Addr {
	panic("unimplemented")
}
