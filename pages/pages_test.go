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
