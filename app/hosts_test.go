package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/scim"
	"github.com/gatehouse-dev/gatehouse/web"
)

// TestHostsUnavailableShape: while the node is out of sync with the store,
// the team domain answers 503 in the shape its client reads: a page for a
// browser, the JSON error for the admin API whatever the client accepts,
// the SCIM error for SCIM; the published keys are still served.
func TestHostsUnavailableShape(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("served")) })
	page := func(w http.ResponseWriter, _ *http.Request, status int, title, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<h1>"+title+"</h1><p>"+msg+"</p>")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &hosts{team: "auth.example.com", teamHandler: ok, admin: ok, scim: ok, protected: ok, static: ok,
		unavailable: func() error { return access.ErrStoreUnreachable },
		errors:      &web.Adapter{Log: log, Page: page}}
	tests := []struct {
		name, path, accept string
		status             int
		ctype, want        string
	}{
		{"page", "/", "text/html", http.StatusServiceUnavailable, "text/html", "session store unreachable"},
		{"admin page", "/admin/", "text/html", http.StatusServiceUnavailable, "text/html", "session store unreachable"},
		{"API, accepting anything", access.PathAPI + "users/revoke", "*/*", http.StatusServiceUnavailable, "application/json", `"status":503`},
		{"API, accepting HTML", access.PathAPI + "sessions", "text/html", http.StatusServiceUnavailable, "application/json", `"status":503`},
		{"SCIM", access.PathSCIM + "/Users", "text/html", http.StatusServiceUnavailable, "application/scim+json", `urn:ietf:params:scim:api:messages:2.0:Error`},
		{"published keys", access.PathCerts, "", http.StatusOK, "", "served"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://auth.example.com"+tt.path, nil)
			r.Header.Set("Accept", tt.accept)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			body := w.Body.String()
			if w.Code != tt.status || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.ctype) || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %q %s, want %d %q containing %q", w.Code, w.Header().Get("Content-Type"), body, tt.status, tt.ctype, tt.want)
			}
			if tt.ctype == "application/json" {
				var e web.ErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
					t.Errorf("not the JSON error shape: %v %s", err, body)
				}
			}
		})
	}
	if !scim.IsPath(access.PathSCIM + "/Users") {
		t.Fatal("the SCIM row does not test a SCIM path")
	}
}
