package login

import "strings"

// agent is what a User-Agent header says about a browser, for people to
// read on the sessions page. It is a hint, never a security decision: any
// client can send any User-Agent.
type agent struct {
	Browser string // "Firefox 128", "Chrome 126", "Safari 17", "curl 8", or "Unknown browser"
	OS      string // "Windows", "macOS", "iOS", "iPadOS", "Android 14", "ChromeOS", "Linux", or ""
}

// browsers are matched in order: the first product token found names the
// browser (Edge and Opera also say "Chrome", Chrome also says "Safari").
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"}, {"Vivaldi/", "Vivaldi"},
	{"HeadlessChrome/", "Headless Chrome"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
	{"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"Version/", "Safari"}, // Safari gives its version as Version/17.4 ... Safari/605
	{"curl/", "curl"}, {"Wget/", "Wget"}, {"python-requests/", "Python requests"}, {"Go-http-client/", "Go"},
}

// parseAgent reads a User-Agent header.
func parseAgent(ua string) agent {
	a := agent{Browser: "Unknown browser", OS: agentOS(ua)}
	for _, b := range browsers {
		i := strings.Index(ua, b.token)
		if i < 0 {
			continue
		}
		if b.token == "Version/" && !strings.Contains(ua, "Safari/") {
			continue
		}
		a.Browser = b.name
		if v := majorVersion(ua[i+len(b.token):]); v != "" {
			a.Browser += " " + v
		}
		break
	}
	return a
}

// agentOS names the operating system of ua.
func agentOS(ua string) string {
	switch {
	case strings.Contains(ua, "Windows"):
		return "Windows"
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod"):
		return "iOS"
	case strings.Contains(ua, "iPad"):
		return "iPadOS"
	case strings.Contains(ua, "Android"):
		if i := strings.Index(ua, "Android "); i >= 0 {
			if v := majorVersion(ua[i+len("Android "):]); v != "" {
				return "Android " + v
			}
		}
		return "Android"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Mac OS X"):
		return "macOS"
	case strings.Contains(ua, "Linux") || strings.Contains(ua, "X11"):
		return "Linux"
	}
	return ""
}

// majorVersion is the leading run of digits of s ("126" of "126.0.1").
func majorVersion(s string) string {
	n := 0
	for n < len(s) && n < 6 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}

// String renders the agent as "Firefox 128 on Linux".
func (a agent) String() string {
	if a.OS == "" {
		return a.Browser
	}
	return a.Browser + " on " + a.OS
}
