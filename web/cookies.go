package web

import (
	"net"
	"net/http"
	"strings"
)

// CookieValues returns the values of every cookie called name in the Cookie
// headers of h, in order. Several values mean a cookie was planted for a
// parent domain or another path beside the host's own (cookie tossing from
// a sibling subdomain): a browser sends them all under one name and the
// request cannot tell which one the host set.
func CookieValues(h http.Header, name string) (first string, n int) {
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				if n == 0 {
					first = strings.Trim(v, `"`)
				}
				n++
			}
		}
	}
	return first, n
}

// CookieList returns the values of every cookie called name in the Cookie
// headers of h, in order.
func CookieList(h http.Header, name string) []string {
	var out []string
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == name {
				out = append(out, strings.Trim(v, `"`))
			}
		}
	}
	return out
}

// maxClearPaths bounds the path prefixes ClearCookieEverywhere expires.
const maxClearPaths = 8

// ClearCookieEverywhere expires the cookie name on r's host and on every
// parent domain of it (down to two labels), for "/" and every path prefix
// of r's path up to maxClearPaths, so that whatever copy a sibling
// subdomain planted is gone.
func ClearCookieEverywhere(w http.ResponseWriter, r *http.Request, name string, secure bool) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	domains := []string{""} // host-only
	if net.ParseIP(host) == nil {
		for d := host; strings.Count(d, ".") >= 1; {
			domains = append(domains, d)
			_, rest, _ := strings.Cut(d, ".")
			d = rest
			if strings.Count(d, ".") < 1 {
				break
			}
		}
	}
	paths := []string{"/"}
	p := r.URL.Path
	for i := 1; i < len(p) && len(paths) < maxClearPaths; i++ {
		if p[i] == '/' {
			paths = append(paths, p[:i])
		}
	}
	if p != "/" && len(paths) < maxClearPaths && p != "" {
		paths = append(paths, strings.TrimSuffix(p, "/"))
	}
	for _, d := range domains {
		for _, path := range paths {
			http.SetCookie(w, &http.Cookie{Name: name, Value: "", Domain: d, Path: path, MaxAge: -1,
				Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
	}
}

// DropCookies rewrites the Cookie header of h without the cookies named in
// drop (ignoring case), keeping every other cookie in order. It leaves h
// alone (and does not allocate) when none of them is present.
func DropCookies(h http.Header, drop ...string) {
	lines := h["Cookie"]
	if !hasCookieNamed(lines, drop) {
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

// hasCookieNamed reports whether the Cookie header lines hold a cookie
// whose name is in names (ignoring case), reading the lines as DropCookies
// splits them: it looks at each name and skips each value without reading
// it, and allocates nothing.
func hasCookieNamed(lines, names []string) bool {
	for _, line := range lines {
		for line != "" {
			part := line
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				line = ""
			}
			name := part
			if i := strings.IndexByte(part, '='); i >= 0 {
				name = part[:i]
			}
			if containsFold(names, strings.TrimSpace(name)) {
				return true
			}
		}
	}
	return false
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
