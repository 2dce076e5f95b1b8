package web

import "errors"

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
func CleanPath(target string) (string, error) { panic("unimplemented") }

// CleanURL sanitizes an absolute URL whose host must satisfy allowed (which
// gets the host with any port); scheme must be http or https. Relative
// targets are passed to CleanPath.
func CleanURL(target string, allowed func(host string) bool) (string, error) {
	panic("unimplemented")
}
