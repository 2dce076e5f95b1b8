package proxy

import (
	"net/http"
	"net/http/httputil"
	"net/netip"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// credential returns the app token the request carries: the CF_Authorization
// cookie, else the cf-access-token header, else Cf-Access-Jwt-Assertion.
// ambiguous reports several CF_Authorization cookies: one the app host did
// not set must never choose the identity, so the caller refuses them all.
// It must be read before strip removes the headers.
func credential(r *http.Request) (raw string, ambiguous bool) {
	if v, n := web.CookieValues(r.Header, access.CookieAuthorization); n > 1 {
		return "", true
	} else if v != "" {
		return v, false
	}
	if v := r.Header.Get(access.HeaderAccessToken); v != "" {
		return v, false
	}
	return r.Header.Get(access.HeaderJWTAssertion), false
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

// Header names are compared the way any origin stack may read them: case
// does not matter, and '_' is the same as '-' (PHP, WSGI and Rack map both
// to one variable), so "Cf_Access_Jwt_Assertion" is the assertion header.

// forgeablePrefixes start the names of headers a client must never pass to
// an origin: every Cf-Access-* header (identity headers only Gatehouse may
// set, and service-token credentials).
var forgeablePrefixes = []string{access.HeaderPrefix}

// forgeable are further headers no client may pass to any origin: the
// path-override headers some frameworks honour.
var forgeable = []string{"X-Original-Url", "X-Rewrite-Url"}

// forwardingPrefixes and forwarding are the forwarding headers, trusted
// only from TrustedProxies.
var (
	forwardingPrefixes = []string{"X-Forwarded-"}
	forwarding         = []string{"Forwarded", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip"}
)

// strip removes from r what a client must not forge or the origin must not
// see, under every spelling of the name: the Cf-Access-* headers, the
// path-override headers, extra (the app's service-token header, when it
// has one) and, unless trustedPeer, the forwarding headers. The binding and
// app-session cookies never reach the origin either.
func strip(r *http.Request, trustedPeer bool, extra string) {
	for name := range r.Header {
		if headerForged(name, trustedPeer, extra) {
			delete(r.Header, name)
		}
	}
	web.DropCookies(r.Header, access.CookieBinding, access.CookieAppSession)
}

// headerForged reports whether strip drops the header called name.
func headerForged(name string, trustedPeer bool, extra string) bool {
	if extra != "" && headerNameEq(name, extra) {
		return true
	}
	for _, p := range forgeablePrefixes {
		if headerHasPrefix(name, p) {
			return true
		}
	}
	for _, f := range forgeable {
		if headerNameEq(name, f) {
			return true
		}
	}
	if trustedPeer {
		return false
	}
	for _, p := range forwardingPrefixes {
		if headerHasPrefix(name, p) {
			return true
		}
	}
	for _, f := range forwarding {
		if headerNameEq(name, f) {
			return true
		}
	}
	return false
}

// headerNameEq reports whether header names a and b are the same name to an
// origin: equal ignoring ASCII case, with '_' equal to '-'. It does not
// allocate.
func headerNameEq(a, b string) bool {
	return len(a) == len(b) && headerHasPrefix(a, b)
}

// headerHasPrefix reports whether header name starts with prefix, compared
// as headerNameEq compares.
func headerHasPrefix(name, prefix string) bool {
	if len(name) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if foldHeaderByte(name[i]) != foldHeaderByte(prefix[i]) {
			return false
		}
	}
	return true
}

// foldHeaderByte maps c to lower case and '_' to '-'.
func foldHeaderByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
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

// setForwarded sets X-Forwarded-For (the chain from in when the peer is
// trusted, plus the peer), X-Forwarded-Host (the inbound Host) and
// X-Forwarded-Proto on out. A trusted proxy's X-Forwarded-Proto and
// Forwarded headers are kept; an untrusted peer's are never read. in and
// out may be the same request.
func setForwarded(in, out *http.Request, trustedPeer bool) {
	var proto string
	var forwarded []string
	if trustedPeer {
		proto = in.Header.Get("X-Forwarded-Proto")
		forwarded = in.Header["Forwarded"]
		if xff := in.Header["X-Forwarded-For"]; len(xff) > 0 {
			out.Header["X-Forwarded-For"] = xff
		}
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
		if slices.ContainsFunc(ownCookies, func(c string) bool { return strings.EqualFold(c, strings.TrimSpace(name)) }) {
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
