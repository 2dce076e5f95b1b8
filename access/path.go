package access

import (
	"errors"
	"path"
	"strings"
)

// ErrAmbiguousPath refuses a request path whose meaning depends on how a
// server normalises it.
var ErrAmbiguousPath = errors.New("access: ambiguous request path")

// CanonicalPath returns the path Gatehouse matches apps and policies on and
// forwards to the origin, from a request's escaped path: a backslash is a
// slash, percent-encoded unreserved characters (letters, digits, "-", ".",
// "_", "~") are decoded, dot segments are resolved and repeated slashes
// collapsed (a trailing slash is kept). Other escapes stay as they are.
//
// It refuses (ErrAmbiguousPath) what servers read differently: an encoded
// slash or backslash (%2F, %5C), an encoded NUL or other control byte, a
// bad escape, and a dot segment with parameters ("..;", ".;"), which some
// servers treat as "..".
func CanonicalPath(escaped string) (string, error) {
	if plainPath(escaped) {
		return escaped, nil // already canonical: the common case, without a copy
	}
	return canonicalPath(escaped)
}

// plainPath reports whether escaped is canonical as it is: it starts with
// "/", holds only letters, digits, "-", "_", "~", "." and "/", has no empty
// segment ("//") and no segment starting with "." (so no dot segment), and
// no escape, backslash, parameter or control byte.
func plainPath(escaped string) bool {
	if escaped == "" || escaped[0] != '/' {
		return false
	}
	for i := 1; i < len(escaped); i++ {
		c := escaped[i]
		switch {
		case c == '/' || c == '.':
			if escaped[i-1] == '/' {
				return false // "//", or a segment starting with "."
			}
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~':
		default:
			return false
		}
	}
	return true
}

// canonicalPath is CanonicalPath's general case.
func canonicalPath(escaped string) (string, error) {
	if escaped == "" {
		return "/", nil
	}
	var b strings.Builder
	b.Grow(len(escaped) + 1)
	if escaped[0] != '/' && escaped[0] != '\\' {
		b.WriteByte('/')
	}
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		switch {
		case c == '\\':
			b.WriteByte('/')
		case c < 0x20 || c == 0x7f:
			return "", ErrAmbiguousPath
		case c == '%':
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return "", ErrAmbiguousPath
			}
			d := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			switch {
			case d == '/' || d == '\\' || d < 0x20 || d == 0x7f:
				return "", ErrAmbiguousPath
			case isUnreserved(d):
				b.WriteByte(d)
			default:
				b.WriteString(strings.ToUpper(escaped[i : i+3]))
			}
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	p := b.String()
	for seg := range strings.SplitSeq(p, "/") {
		if before, _, ok := strings.Cut(seg, ";"); ok && (before == "." || before == "..") {
			return "", ErrAmbiguousPath
		}
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean, nil
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
