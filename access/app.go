package access

import (
	"path"
	"strings"
	"time"
)

// App is a protected application as the request path sees it.
type App struct {
	Name            string
	AUD             string   // 64 hex
	Domains         []string // "app.example.com", "*.example.com", optionally with ":port"
	Path            string   // "" or "/prefix"; the most specific path wins
	Origin          string   // origin URL, or "whoami" for the built-in origin
	SessionDuration time.Duration
	Policies        []Policy
	IdPs            []string // allowed provider ids; empty: all
	LogoURL         string   // https logo shown on the launcher tile, or ""
	Hidden          bool     // left off the app launcher (access is unchanged)
	// OriginTimeout is how long the origin may take to start answering
	// (its response headers); 0: DefaultOriginTimeout.
	OriginTimeout time.Duration
	Settings      // cookies, CORS, deny page and service tokens (settings.go)
}

// DefaultOriginTimeout is how long an origin may take to start answering
// when the app sets no origin_timeout (Cloudflare's proxy waits as long).
const DefaultOriginTimeout = 100 * time.Second

// ResponseTimeout returns the app's origin timeout.
func (a *App) ResponseTimeout() time.Duration {
	if a.OriginTimeout > 0 {
		return a.OriginTimeout
	}
	return DefaultOriginTimeout
}

// EntryPath is a path the app covers, to link to or match it by: "/" for
// an app on every path, "/p" for "/p", "/p/" for "/p/" and "/p/*".
func (a *App) EntryPath() string {
	p := strings.TrimSuffix(strings.TrimSpace(a.Path), "*")
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// Table matches requests to apps. It is immutable once built.
//
// Domain patterns are exact ("app.example.com") or carry one wildcard at the
// start of the first label: "*.example.com" matches exactly one extra label
// (not the apex, not a.b.example.com), "*foo.example.com" matches a first
// label ending in "foo" (foo.example.com, alphafoo.example.com). A pattern
// with ":port" only matches requests for that port; without, any port.
// Hosts are compared case-insensitively, ignoring a trailing dot.
//
// App.Path "" or "/" covers every path; "/alpha" covers "/alpha" and
// "/alpha/..." but not "/alphabet"; "/alpha/" or "/alpha/*" covers
// "/alpha/..." but not "/alpha".
type Table struct {
	apps   []*App
	byName map[string]*App
	exact  map[string][]entry // host -> entries
	wild   map[string][]entry // domain after the first label -> entries
}

// entry is one (app, domain pattern) pair.
type entry struct {
	app    *App
	order  int    // config order, for ties
	port   string // "" for any port
	exact  bool
	suffix string // wildcard: what the first label must end with
	prefix string // normalised path prefix, "" for everything
}

// NewTable indexes apps for matching. Nil apps are skipped.
func NewTable(apps []*App) *Table {
	t := &Table{
		byName: make(map[string]*App),
		exact:  make(map[string][]entry),
		wild:   make(map[string][]entry),
	}
	for i, a := range apps {
		if a == nil {
			continue
		}
		t.apps = append(t.apps, a)
		if _, dup := t.byName[a.Name]; !dup {
			t.byName[a.Name] = a
		}
		prefix := normPrefix(a.Path)
		for _, d := range a.Domains {
			host, port := splitHostPort(normHost(d))
			if host == "" {
				continue
			}
			e := entry{app: a, order: i, port: port, prefix: prefix}
			first, rest, _ := strings.Cut(host, ".")
			if star := strings.IndexByte(first, '*'); star == 0 && rest != "" {
				e.suffix = first[1:]
				t.wild[rest] = append(t.wild[rest], e)
				continue
			}
			e.exact = true
			t.exact[host] = append(t.exact[host], e)
		}
	}
	return t
}

// Match returns the app for host (with or without port) and path: exact host
// before wildcard host, then the longest matching path prefix. nil if none.
//
// Among wildcards a longer label suffix is more specific, and a pattern with
// a port beats one without; remaining ties go to the app listed first. The
// path is cleaned of dot segments and repeated slashes before matching.
func (t *Table) Match(host, urlPath string) *App {
	if t == nil {
		return nil
	}
	host, port := splitHostPort(normHost(host))
	if host == "" {
		return nil
	}
	p := cleanReqPath(urlPath)
	var best *entry
	consider := func(list []entry, label string) {
		for i := range list {
			e := &list[i]
			if e.port != "" && e.port != port {
				continue
			}
			if !e.exact && (len(label) < max(1, len(e.suffix)) || !strings.HasSuffix(label, e.suffix)) {
				continue
			}
			if !pathCovers(e.prefix, p) {
				continue
			}
			if best == nil || better(e, best) {
				best = e
			}
		}
	}
	consider(t.exact[host], "")
	if label, rest, ok := strings.Cut(host, "."); ok {
		consider(t.wild[rest], label)
	}
	if best == nil {
		return nil
	}
	return best.app
}

// better reports whether a is a more specific match than b.
func better(a, b *entry) bool {
	if a.exact != b.exact {
		return a.exact
	}
	if len(a.suffix) != len(b.suffix) {
		return len(a.suffix) > len(b.suffix)
	}
	if len(a.prefix) != len(b.prefix) {
		return len(a.prefix) > len(b.prefix)
	}
	if (a.port != "") != (b.port != "") {
		return a.port != ""
	}
	return a.order < b.order
}

// ByName returns the app named name, or nil.
func (t *Table) ByName(name string) *App {
	if t == nil {
		return nil
	}
	return t.byName[name]
}

// Apps returns every app in config order.
func (t *Table) Apps() []*App {
	if t == nil {
		return nil
	}
	return append([]*App(nil), t.apps...)
}

func normHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// splitHostPort splits "host:port" and "[v6]:port"; a bare host (or a bare
// IPv6 literal) has no port.
func splitHostPort(h string) (host, port string) {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return h, ""
		}
		host, rest := h[1:end], h[end+1:]
		if p, ok := strings.CutPrefix(rest, ":"); ok {
			port = p
		}
		return host, port
	}
	if strings.Count(h, ":") == 1 {
		host, port, _ = strings.Cut(h, ":")
		return strings.TrimSuffix(host, "."), port
	}
	return h, ""
}

// normPrefix turns App.Path into the prefix pathCovers uses: "" for all,
// "/alpha" for a segment and what lies below it, "/alpha/" for below only.
func normPrefix(p string) string {
	p = strings.TrimSpace(p)
	p = strings.TrimSuffix(p, "*")
	if p == "" || p == "/" {
		return ""
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// pathCovers reports whether prefix covers the cleaned request path p.
func pathCovers(prefix, p string) bool {
	switch {
	case prefix == "":
		return true
	case strings.HasSuffix(prefix, "/"):
		return strings.HasPrefix(p, prefix)
	default:
		return p == prefix || strings.HasPrefix(p, prefix+"/")
	}
}

// cleanReqPath resolves dot segments so "/public/../admin" matches the app
// at "/admin", keeping a trailing slash.
func cleanReqPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
