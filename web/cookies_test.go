package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestCookieValues(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		first string
		n     int
	}{
		{"none", nil, "", 0},
		{"one", []string{"a=1; CF_Authorization=tok; b=2"}, "tok", 1},
		{"tossed in one line", []string{"CF_Authorization=planted; CF_Authorization=mine"}, "planted", 2},
		{"tossed across lines", []string{"CF_Authorization=x", "CF_Authorization=y"}, "x", 2},
		{"other case is another cookie", []string{"cf_authorization=x; CF_Authorization=y"}, "y", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, n := CookieValues(http.Header{"Cookie": tt.lines}, "CF_Authorization")
			if first != tt.first || n != tt.n {
				t.Fatalf("CookieValues = %q, %d; want %q, %d", first, n, tt.first, tt.n)
			}
		})
	}
}

func TestClearCookieEverywhere(t *testing.T) {
	r := httptest.NewRequest("GET", "http://app.team.example.com:8443/a/b", nil)
	w := httptest.NewRecorder()
	ClearCookieEverywhere(w, r, "CF_Authorization", true)
	want := map[string]bool{}
	for _, d := range []string{"", "app.team.example.com", "team.example.com", "example.com"} {
		for _, p := range []string{"/", "/a", "/a/b"} {
			want[d+"|"+p] = true
		}
	}
	got := map[string]bool{}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge != -1 || c.Value != "" || c.Name != "CF_Authorization" {
			t.Errorf("cookie %+v does not expire", c)
		}
		got[c.Domain+"|"+c.Path] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no expiry for domain|path %s", k)
		}
	}
	if got["com|/"] {
		t.Error("expired a cookie for a public suffix")
	}
}

// TestAdapterStoreErrors: a write refused for lack of room and a store
// that cannot be reached both answer 503 with a Retry-After and a message
// that says which, as a page and as JSON.
func TestAdapterStoreErrors(t *testing.T) {
	a := &Adapter{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tests := []struct {
		name, want string
		err        error
	}{
		{"storage full", "cannot sign anyone in", fmt.Errorf("login: create session: %w", fmt.Errorf("%w: database or disk is full", access.ErrStorageFull))},
		{"store unreachable", "session store unreachable", fmt.Errorf("revoke: %w", fmt.Errorf("%w: dial tcp: connection refused", access.ErrStoreUnreachable))},
	}
	for _, tt := range tests {
		h := a.Wrap(func(http.ResponseWriter, *http.Request) error { return tt.err })
		for _, accept := range []string{"text/html", "application/json"} {
			t.Run(tt.name+", "+accept, func(t *testing.T) {
				r := httptest.NewRequest("POST", "/cdn-cgi/access/otp/verify", nil)
				r.Header.Set("Accept", accept)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), tt.want) {
					t.Errorf("%d Retry-After %q body %q", w.Code, w.Header().Get("Retry-After"), w.Body.String())
				}
			})
		}
	}
}

func TestDropCookies(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []string // Cookie lines; nil for none
		want []string // nil: the header is gone
	}{
		{"none present", []string{"a=1; b=2"}, []string{"a=1; b=2"}},
		{"dropped, order kept", []string{"a=1; CF_Binding=x; b=2"}, []string{"a=1; b=2"}},
		{"any case", []string{"cf_binding=x; a=1; CF_APPSESSION=y"}, []string{"a=1"}},
		{"spaces around the name", []string{"a=1;  CF_Binding =x"}, []string{"a=1"}},
		{"name only in a value", []string{"a=CF_Binding; b=xCF_Binding=y"}, []string{"a=CF_Binding; b=xCF_Binding=y"}},
		{"several lines", []string{"a=1", "CF_Binding=x; b=2"}, []string{"a=1; b=2"}},
		{"all dropped", []string{"CF_Binding=x; CF_AppSession=y"}, nil},
		{"no cookie header", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != nil {
				h["Cookie"] = append([]string(nil), tt.in...)
			}
			DropCookies(h, "CF_Binding", "CF_AppSession")
			if got := h["Cookie"]; !slices.Equal(got, tt.want) {
				t.Errorf("Cookie = %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkDropCookiesNone measures a Cookie header with a signed token and
// none of the dropped cookies: the case of every proxied request.
func BenchmarkDropCookiesNone(b *testing.B) {
	h := http.Header{"Cookie": {"theme=dark; CF_Authorization=" + strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 50)}}
	b.ReportAllocs()
	for b.Loop() {
		DropCookies(h, "CF_Binding", "CF_AppSession")
	}
}
