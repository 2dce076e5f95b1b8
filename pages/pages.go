// Package pages renders Gatehouse's branded HTML: the embedded layout, the
// sign-in, error and launcher pages, the static assets and the built-in
// whoami origin. Features with pages of their own (the admin) parse them with
// the same layout through Renderer.Parse.
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
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The pages of this package, each templates/<name>.html. New parses every
// one of them and refuses a template file that is not listed here.
const (
	PageError      = "error"
	PageLauncher   = "launcher"
	PageLoginPick  = "login_pick"
	PageLoginEmail = "login_email"
	PageLoginCode  = "login_code"
	PageSignedOut  = "signed_out"
	PageWhoami     = "whoami"
	PageSessions   = "sessions"
)

// pageNames lists the Page constants.
var pageNames = []string{PageError, PageLauncher, PageLoginPick, PageLoginEmail, PageLoginCode, PageSignedOut, PageWhoami, PageSessions}

// layoutFile is the template every page is parsed with; it executes the
// page's "content" template.
const layoutFile = "templates/layout.html"

// Renderer renders the embedded pages. Every page is parsed with the layout
// at start-up, so a broken or missing template fails New, not a request.
type Renderer struct {
	pages    map[string]*Template
	funcs    template.FuncMap
	cssURL   string
	log      *slog.Logger
	teamName string
}

// New parses every page. teamName is shown in page titles.
func New(teamName string, log *slog.Logger) (*Renderer, error) {
	if log == nil {
		log = slog.Default()
	}
	css, err := staticFS.ReadFile("static/gatehouse.css")
	if err != nil {
		return nil, fmt.Errorf("pages: read css: %w", err)
	}
	sum := sha256.Sum256(css)
	r := &Renderer{
		pages: make(map[string]*Template, len(pageNames)),
		funcs: template.FuncMap{
			"ago":    Ago,
			"exact":  exact,
			"plural": PluralWord,
			"count":  Plural,
		},
		cssURL:   access.PathStatic + "gatehouse.css?v=" + hex.EncodeToString(sum[:6]),
		log:      log,
		teamName: teamName,
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("pages: list templates: %w", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if f != layoutFile && !slices.Contains(pageNames, name) {
			return nil, fmt.Errorf("pages: template %s is not a declared page", f)
		}
	}
	for _, name := range pageNames {
		t, err := r.Parse(templateFS, nil, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		r.pages[name] = t
	}
	return r, nil
}

// exact renders t as a UTC timestamp ("2006-01-02 15:04:05 UTC").
func exact(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// Ago renders t relative to now ("3 minutes ago", "in 2 hours").
func Ago(t time.Time) string {
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
		s = Plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = Plural(int(d/time.Hour), "hour")
	default:
		s = Plural(int(d/(24*time.Hour)), "day")
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// Plural renders a count of unit: "1 day", "3 days". The plural is unit
// with an "s" unless given ("1 try", "2 tries"). Templates call it as
// {{count N "unit"}}.
func Plural(n int, unit string, many ...string) string {
	return fmt.Sprintf("%d %s", n, PluralWord(n, unit, many...))
}

// PluralWord is the form of unit that agrees with n, without the number:
// "application" for 1, "applications" otherwise; many, when given, is the
// plural form. Templates call it as {{plural N "unit"}}, where the number is
// shown apart from its label.
func PluralWord(n int, unit string, many ...string) string {
	if n == 1 || n == -1 {
		return unit
	}
	if len(many) > 0 {
		return many[0]
	}
	return unit + "s"
}

// Page is the data every page gets: Title and the page's own Data.
type Page struct {
	Title  string
	Team   string
	CSS    string
	Data   any
	Status int
}

// Template is one page parsed with the layout, ready to render.
type Template struct {
	t    *template.Template
	name string
	r    *Renderer
}

// Parse parses the page file (which defines "content") from fsys with the
// layout and the partials, also from fsys. The page may call the
// renderer's functions (ago, exact, plural, count) and funcs; a name in both
// is an error.
func (r *Renderer) Parse(fsys fs.FS, funcs template.FuncMap, file string, partials ...string) (*Template, error) {
	all := maps.Clone(r.funcs)
	for k, f := range funcs {
		if _, ok := all[k]; ok {
			return nil, fmt.Errorf("pages: parse %s: template function %q is already defined", file, k)
		}
		all[k] = f
	}
	t, err := template.New("layout.html").Funcs(all).ParseFS(templateFS, layoutFile)
	if err == nil && len(partials) > 0 {
		t, err = t.ParseFS(fsys, partials...)
	}
	if err == nil {
		t, err = t.ParseFS(fsys, file)
	}
	if err != nil {
		return nil, fmt.Errorf("pages: parse %s: %w", file, err)
	}
	if t.Lookup("content") == nil {
		return nil, fmt.Errorf("pages: parse %s: no \"content\" template", file)
	}
	name := strings.TrimSuffix(path.Base(file), ".html")
	return &Template{t: t, name: name, r: r}, nil
}

// Render writes the page with title, data and status. Nothing is written
// when the template fails.
func (t *Template) Render(w http.ResponseWriter, status int, title string, data any) error {
	var buf bytes.Buffer
	err := t.t.Execute(&buf, Page{Title: title, Team: t.r.teamName, CSS: t.r.cssURL, Data: data, Status: status})
	if err != nil {
		return fmt.Errorf("pages: render %s: %w", t.name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// Render writes page name (one of the Page constants) with data and status.
func (r *Renderer) Render(w http.ResponseWriter, status int, name, title string, data any) {
	t, ok := r.pages[name]
	if !ok {
		r.log.Error("pages: unknown page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Render(w, status, title, data); err != nil {
		r.log.Error("pages: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// ErrorData is the data of the error page.
type ErrorData struct {
	Message string
	Retry   string // optional link to sign in again
	// Detail is an optional small line under the message, such as the
	// provider's raw error code.
	Detail string
	// SignedInAs, on a deny page, is who is signed in; SwitchURL is the
	// sign-out form's action and SwitchTo where it returns, for "use
	// another account".
	SignedInAs string
	SwitchURL  string
	SwitchTo   string
}

// Error renders the branded error page; it has the signature of web.PageFunc.
func (r *Renderer) Error(w http.ResponseWriter, _ *http.Request, status int, title, msg string) {
	r.Render(w, status, PageError, title, ErrorData{Message: msg})
}

// Static serves the embedded assets under access.PathStatic.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix(access.PathStatic, http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		fsrv.ServeHTTP(w, r)
	})
}
