package web

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// ErrBadRedirect is returned for a redirect target the sanitizer refuses.
var ErrBadRedirect = errors.New("web: unsafe redirect target")

// MaxRedirectLen bounds a redirect target.
const MaxRedirectLen = 2048

// CleanPath is the one sanitizer for same-host redirect targets: it accepts
// a path with an optional query ("/a/b?x=1") and returns it normalised; it
// refuses anything that a browser could resolve to another origin
// ("//evil.com", "/\\evil.com", "https:/evil.com", "javascript:", userinfo,
// percent-encoded slashes or backslashes at the start, control characters,
// overlong values). An empty target becomes "/".
//
// Normalising drops the fragment, resolves "." and ".." segments (keeping a
// trailing slash), and percent-encodes bytes a Location header should not
// carry raw. Backslashes are refused anywhere, as are percent-encoded dot
// segments, and percent-encoded slashes or backslashes that would start the
// path (checked through up to three rounds of decoding).
func CleanPath(target string) (string, error) {
	if err := precheck(target); err != nil {
		return "", err
	}
	if target == "" {
		return "/", nil
	}
	if target[0] != '/' {
		return "", refuse(target, "not a path")
	}
	if len(target) > 1 && target[1] == '/' {
		return "", refuse(target, "protocol-relative")
	}
	target, _, _ = strings.Cut(target, "#")
	rawPath, query, _ := strings.Cut(target, "?")

	cleaned := path.Clean(rawPath)
	if strings.HasSuffix(rawPath, "/") && cleaned != "/" {
		cleaned += "/"
	}
	if err := checkDecoded(cleaned); err != nil {
		return "", refuse(target, err.Error())
	}
	out := escapeUnsafe(cleaned)
	if query != "" {
		out += "?" + escapeUnsafe(query)
	}
	if len(out) > MaxRedirectLen {
		return "", refuse(target, "too long")
	}
	return out, nil
}

// precheck refuses overlong targets, control characters and backslashes,
// which browsers strip or turn into slashes.
func precheck(target string) error {
	if len(target) > MaxRedirectLen {
		return refuse("", "too long")
	}
	for i := 0; i < len(target); i++ {
		switch c := target[i]; {
		case c < 0x20 || c == 0x7f:
			return refuse(target, "control character")
		case c == '\\':
			return refuse(target, "backslash")
		}
	}
	return nil
}

// checkDecoded percent-decodes the cleaned path and refuses what a later
// decoding could turn into another origin or a dot segment.
func checkDecoded(p string) error {
	cur := p
	for round := range 3 {
		dec, err := url.PathUnescape(cur)
		if err != nil {
			return errors.New("bad percent-encoding")
		}
		if round == 0 {
			for seg := range strings.SplitSeq(dec, "/") {
				if seg == "." || seg == ".." {
					return errors.New("encoded dot segment")
				}
			}
		}
		if len(dec) > 1 && (dec[1] == '/' || dec[1] == '\\') {
			return errors.New("encoded slash at the start")
		}
		for i := 0; i < len(dec); i++ {
			if dec[i] < 0x20 || dec[i] == 0x7f {
				return errors.New("encoded control character")
			}
		}
		if dec == cur {
			break
		}
		cur = dec
	}
	return nil
}

// escapeUnsafe percent-encodes the bytes of a path or query that must not
// appear raw in a Location header or an HTML attribute (spaces, quotes,
// angle brackets, non-ASCII); existing escapes are kept.
func escapeUnsafe(q string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"'<>`{}|^", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func refuse(target, why string) error {
	if len(target) > 64 {
		target = target[:64] + "…"
	}
	return fmt.Errorf("%w: %s: %q", ErrBadRedirect, why, target)
}
