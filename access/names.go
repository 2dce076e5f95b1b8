package access

import (
	"strings"
	"unicode/utf8"
)

// clipMark ends a string Clip cut.
const clipMark = "…"

// Clip bounds s, a value a stranger chose (a path, a User-Agent), to at most
// n bytes: cut on a rune boundary and ended with "…" when it is longer.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(clipMark)
	if cut <= 0 {
		return clipMark[:min(n, len(clipMark))]
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + clipMark
}

// CertNameMatches reports whether a certificate name (possibly "*.domain")
// covers the concrete host name. Configuration checks and TLS serving both
// use it, so a name that passes check-config is one the certificate is
// served for.
func CertNameMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok {
		return false
	}
	_, hostRest, ok := strings.Cut(host, ".")
	return ok && hostRest == rest
}
