// Package ui holds Gatehouse's embedded templates and static assets: the
// sign-in pages, error pages, the whoami origin and the admin pages.
package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticPrefix is where the static assets are served, on every host.
const StaticPrefix = "/cdn-cgi/access/static/"

// Renderer renders the embedded pages. Every page template is parsed with the
// layout at start-up, so a broken template fails New, not a request.
type Renderer struct {
	pages    map[string]*template.Template
	cssURL   string
	log      *slog.Logger
	teamName string
}

// New parses every template. teamName is shown in page titles.
func New(teamName string, log *slog.Logger) (*Renderer, error) {
	if log == nil {
		log = slog.Default()
	}
	css, err := staticFS.ReadFile("static/gatehouse.css")
	if err != nil {
		return nil, fmt.Errorf("ui: read css: %w", err)
	}
	sum := sha256.Sum256(css)
	r := &Renderer{
		pages:    map[string]*template.Template{},
		cssURL:   StaticPrefix + "gatehouse.css?v=" + hex.EncodeToString(sum[:6]),
		log:      log,
		teamName: teamName,
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: list templates: %w", err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", n, err)
		}
		r.pages[base] = t
	}
	return r, nil
}

var funcs = template.FuncMap{
	"ago":   ago,
	"exact": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
}

// ago renders t relative to now ("3 minutes ago", "in 2 hours").
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Until(t)
	suffix := ""
	if d < 0 {
		d, suffix = -d, " ago"
	}
	var s string
	switch {
	case d < time.Minute:
		s = "a moment"
		if suffix == "" {
			return "in a moment"
		}
		return "just now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Page is the data every page gets: Title and the page's own Data.
type Page struct {
	Title  string
	Team   string
	CSS    string
	Data   any
	Status int
}

// Render writes page name (templates/<name>.html) with data and status.
func (r *Renderer) Render(w http.ResponseWriter, status int, name, title string, data any) {
	t, ok := r.pages[name]
	if !ok {
		r.log.Error("ui: unknown page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	err := t.Execute(&buf, Page{Title: title, Team: r.teamName, CSS: r.cssURL, Data: data, Status: status})
	if err != nil {
		r.log.Error("ui: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorData is the data of the error page.
type ErrorData struct {
	Message string
	Retry   string // optional link to try again
	// SignedInAs, on a deny page, is who is signed in; SwitchURL is the
	// sign-out form's action and SwitchTo where it returns, for "use
	// another account".
	SignedInAs string
	SwitchURL  string
	SwitchTo   string
}

// Error renders the branded error page; it has the signature of web.PageFunc.
func (r *Renderer) Error(w http.ResponseWriter, _ *http.Request, status int, title, msg string) {
	r.Render(w, status, "error", title, ErrorData{Message: msg})
}

// Static serves the embedded assets under StaticPrefix.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix(StaticPrefix, http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		fsrv.ServeHTTP(w, r)
	})
}
