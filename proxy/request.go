package proxy

import (
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// credential returns the app token the request carries: the CF_Authorization
// cookie, else the cf-access-token header, else Cf-Access-Jwt-Assertion.
// It must be read before strip removes the headers.
func credential(r *http.Request) string {
	if v := cookieValue(r.Header, access.CookieAuthorization); v != "" {
		return v
	}
	if v := r.Header.Get(access.HeaderAccessToken); v != "" {
		return v
	}
	return r.Header.Get(access.HeaderJWTAssertion)
}

// cookieValue returns the value of the first cookie called name in the
// Cookie headers of h, or "". It does not allocate.
func cookieValue(h http.Header, name string) string {
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return strings.Trim(v, `"`)
			}
		}
	}
	return ""
}

// forgeable are the request headers a client must never pass to an origin:
// identity headers only Gatehouse may set, and service-token credentials.
var forgeable = []string{
	access.HeaderJWTAssertion,
	access.HeaderUserEmail,
	access.HeaderAccessToken,
	access.HeaderClientID,
	access.HeaderClientSecret,
}

// forwardingHeaders are trusted only from TrustedProxies.
var forwardingHeaders = []string{
	"X-Forwarded-For",
	"X-Forwarded-Host",
	"X-Forwarded-Proto",
	"Forwarded",
}

// strip removes from r what a client must not forge or the origin must not
// see. trustedPeer keeps the forwarding headers of a trusted proxy.
func strip(r *http.Request, trustedPeer bool) {
	// The names are canonical, so a plain delete does what Header.Del does
	// without canonicalising each name on every request.
	for _, name := range forgeable {
		delete(r.Header, name)
	}
	if !trustedPeer {
		for _, name := range forwardingHeaders {
			delete(r.Header, name)
		}
	}
	stripCookies(r.Header, access.CookieBinding, access.CookieAppSession)
}

// stripCookies rewrites the Cookie header of h without the cookies named in
// drop, keeping every other cookie in order. It leaves h alone (and does not
// allocate) when none of them is present.
func stripCookies(h http.Header, drop ...string) {
	lines := h["Cookie"]
	found := false
	for _, line := range lines {
		for _, name := range drop {
			if strings.Contains(line, name) {
				found = true
			}
		}
	}
	if !found {
		return
	}
	var kept []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if containsFold(drop, strings.TrimSpace(name)) {
				continue
			}
			kept = append(kept, part)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = []string{strings.Join(kept, "; ")}
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// peerTrusted reports whether the connection's peer is one of trusted.
func peerTrusted(r *http.Request, trusted []netip.Prefix) bool {
	if len(trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// setForwarded sets X-Forwarded-For (the chain from in, which strip emptied
// unless the peer is trusted, plus the peer), X-Forwarded-Host (the inbound
// Host) and X-Forwarded-Proto on out. A trusted proxy's X-Forwarded-Proto and
// Forwarded headers are kept. in and out may be the same request.
func setForwarded(in, out *http.Request) {
	proto := in.Header.Get("X-Forwarded-Proto")
	forwarded := in.Header["Forwarded"]
	if xff := in.Header["X-Forwarded-For"]; len(xff) > 0 {
		out.Header["X-Forwarded-For"] = xff
	}
	(&httputil.ProxyRequest{In: in, Out: out}).SetXForwarded()
	if proto != "" {
		out.Header.Set("X-Forwarded-Proto", proto)
	}
	if len(forwarded) > 0 {
		out.Header["Forwarded"] = forwarded
	}
}

// stripUpstreamCookies removes the origin's Set-Cookie headers for the
// cookies Gatehouse owns, so that an origin (for example one that calls
// another protected app) cannot overwrite the browser's session.
func stripUpstreamCookies(resp *http.Response) error {
	lines := resp.Header["Set-Cookie"]
	if len(lines) == 0 {
		return nil
	}
	kept := lines[:0]
	for _, line := range lines {
		name, _, _ := strings.Cut(line, "=")
		if containsFold(ownCookies, strings.TrimSpace(name)) {
			continue
		}
		kept = append(kept, line)
	}
	if len(kept) == 0 {
		resp.Header.Del("Set-Cookie")
		return nil
	}
	resp.Header["Set-Cookie"] = kept
	return nil
}

// ownCookies are the cookies only Gatehouse may set on a protected host.
var ownCookies = []string{access.CookieAuthorization, access.CookieBinding, access.CookieAppSession}
