package pages

import (
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	rd, err := New("Test Team", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestRender(t *testing.T) {
	rd := newRenderer(t)
	if len(rd.pages) != len(pageNames) {
		t.Errorf("parsed %d pages, want %d", len(rd.pages), len(pageNames))
	}
	w := httptest.NewRecorder()
	rd.Error(w, nil, http.StatusForbidden, "Access denied", "Not you.")
	if body := w.Body.String(); w.Code != http.StatusForbidden || !strings.Contains(body, "<title>Access denied · Test Team</title>") ||
		!strings.Contains(body, "Not you.") || !strings.Contains(body, "Error 403") {
		t.Errorf("error page: %d %s", w.Code, body)
	}
	w = httptest.NewRecorder()
	rd.Render(w, http.StatusOK, "nope", "Nope", nil)
	if w.Code != http.StatusInternalServerError {
		t.Errorf("unknown page: %d", w.Code)
	}
	w = httptest.NewRecorder()
	rd.Render(w, http.StatusOK, PageError, "Bad data", 42)
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "<title>") {
		t.Errorf("failed render wrote %d %s", w.Code, w.Body)
	}
}

func TestParse(t *testing.T) {
	rd := newRenderer(t)
	fsys := fstest.MapFS{
		"t/page.html":     {Data: []byte(`{{define "content"}}<p>{{shout .Data}} {{template "extra"}}</p>{{end}}`)},
		"t/partials.html": {Data: []byte(`{{define "extra"}}and more{{end}}`)},
		"t/empty.html":    {Data: []byte(`{{define "other"}}{{end}}`)},
	}
	shout := template.FuncMap{"shout": strings.ToUpper}

	tpl, err := rd.Parse(fsys, shout, "t/page.html", "t/partials.html")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := tpl.Render(w, http.StatusAccepted, "Hi", "hello"); err != nil {
		t.Fatal(err)
	}
	if body := w.Body.String(); w.Code != http.StatusAccepted || !strings.Contains(body, "<p>HELLO and more</p>") || !strings.Contains(body, rd.cssURL) {
		t.Errorf("rendered %d %s", w.Code, body)
	}

	for name, tt := range map[string]struct {
		funcs template.FuncMap
		file  string
		want  string
	}{
		"missing function": {file: "t/page.html", want: "shout"},
		"redefined function": {funcs: template.FuncMap{"ago": strings.ToUpper, "shout": strings.ToUpper}, file: "t/page.html",
			want: `"ago" is already defined`},
		"no content":   {file: "t/empty.html", want: `no "content"`},
		"missing file": {file: "t/nope.html", want: "nope.html"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := rd.Parse(fsys, tt.funcs, tt.file, "t/partials.html")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	rd := newRenderer(t)
	fsys := fstest.MapFS{"t/count.html": {Data: []byte(
		`{{define "content"}}<p>{{.Data}} {{plural .Data "application"}}; {{count .Data "try" "tries"}}</p>{{end}}`)}}
	tpl, err := rd.Parse(fsys, nil, "t/count.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, "<p>0 applications; 0 tries</p>"},
		{1, "<p>1 application; 1 try</p>"},
		{2, "<p>2 applications; 2 tries</p>"},
		{12, "<p>12 applications; 12 tries</p>"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := tpl.Render(w, http.StatusOK, "n", tt.n); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(w.Body.String(), tt.want) {
				t.Errorf("rendered %s, want %s", w.Body, tt.want)
			}
		})
	}
	if got := Plural(1, "day"); got != "1 day" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := Plural(3, "day"); got != "3 days" {
		t.Errorf("Plural(3) = %q", got)
	}
}

func TestErrorDetail(t *testing.T) {
	rd := newRenderer(t)
	w := httptest.NewRecorder()
	rd.Render(w, http.StatusUnauthorized, PageError, "Sign-in cancelled", ErrorData{
		Message: "Okta did not sign you in.", Detail: "Code from the identity provider: access_denied", Retry: "/cdn-cgi/access/login/app.example.com?redirect_url=%2F"})
	body := w.Body.String()
	for _, want := range []string{
		`<p class="muted detail">Code from the identity provider: access_denied · Error 401</p>`,
		`<a class="button" href="/cdn-cgi/access/login/app.example.com?redirect_url=%2F">Sign in again</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("error page lacks %s:\n%s", want, body)
		}
	}
}
