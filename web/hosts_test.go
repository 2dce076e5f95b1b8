package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestHSTS(t *testing.T) {
	table := access.NewTable([]*access.App{
		{Name: "on", Domains: []string{"app.example.com"}},
		{Name: "off", Domains: []string{"own.example.com"}, Settings: access.Settings{NoHSTS: true}},
	})
	h := HSTS("auth.example.com", func() *access.Table { return table }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tests := []struct {
		name, host, want string
	}{
		{"team", "auth.example.com", HSTSValue},
		{"team with port", "auth.example.com:443", HSTSValue},
		{"app", "app.example.com", HSTSValue},
		{"app with hsts = false", "own.example.com", ""},
		{"no app", "nothing.example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://"+tt.host+"/", nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Strict-Transport-Security"); got != tt.want {
				t.Errorf("HSTS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSameHost(t *testing.T) {
	tests := []struct {
		req, team string
		want      bool
	}{
		{"auth.example.com", "auth.example.com", true},
		{"AUTH.example.com.", "auth.example.com", true},
		{"auth.example.com:8443", "auth.example.com", true},
		{"auth.example.com:8443", "auth.example.com:443", false},
		{"auth.example.com:443", "auth.example.com:443", true},
		{"app.example.com", "auth.example.com", false},
		{"evil-auth.example.com", "auth.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.req+" vs "+tt.team, func(t *testing.T) {
			if got := SameHost(tt.req, tt.team); got != tt.want {
				t.Errorf("SameHost = %v, want %v", got, tt.want)
			}
		})
	}
}
