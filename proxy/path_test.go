package proxy

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestPathNormalisation sends raw request lines (as an attacker would, with
// literal backslashes and encodings no client library produces) to a real
// listener in front of an app whose /public/* part is bypassed, and checks
// the status and what reached the origin.
func TestPathNormalisation(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, func(o *Options) {
		table := access.NewTable([]*access.App{
			{Name: "private", AUD: audDemo, Domains: []string{"app.example.com"}, Origin: srv.URL, Policies: everyone},
			{Name: "public", AUD: audPub, Domains: []string{"app.example.com"}, Path: "/public/*", Origin: srv.URL,
				Policies: []access.Policy{{Name: "open", Decision: access.Bypass, Include: []access.Rule{{Everyone: true}}}}},
		})
		o.Apps = func() *access.Table { return table }
	})
	front := httptest.NewServer(f.h)
	defer front.Close()
	tests := []struct {
		target string
		status int
		origin string // the path the origin must receive, "" when it must not be reached
	}{
		{"/public/page", http.StatusOK, "/public/page"},
		{"/public/", http.StatusOK, "/public/"},
		{"/public", http.StatusFound, ""},
		{"/public/..\\private", http.StatusFound, ""},
		{"/public\\..\\private", http.StatusFound, ""},
		{"/public/../private", http.StatusFound, ""},
		{"/public/%2e%2e/private", http.StatusFound, ""},
		{"/public/.%2E/private", http.StatusFound, ""},
		{"/public/%2e%2e%5cprivate", http.StatusBadRequest, ""},
		{"/public/..%2fprivate", http.StatusBadRequest, ""},
		{"/public/%2F..%2Fprivate", http.StatusBadRequest, ""},
		{"/public/..;/private", http.StatusBadRequest, ""},
		{"/public/.;/private", http.StatusBadRequest, ""},
		{"/public/a%00b", http.StatusBadRequest, ""},
		{"/public/%70age", http.StatusOK, "/public/page"},
		{"/public/a/../b", http.StatusOK, "/public/b"},
		{"/public\\page", http.StatusOK, "/public/page"},
		{"//public//page", http.StatusOK, "/public/page"},
		{"/public/a%20b", http.StatusOK, "/public/a%20b"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			_, before := origin.last()
			conn, err := net.Dial("tcp", front.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte("GET " + tt.target + " HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			got, after := origin.last()
			switch {
			case tt.origin == "" && after != before:
				t.Errorf("origin reached with %q", got.URL.RequestURI())
			case tt.origin != "" && after == before:
				t.Errorf("origin not reached")
			case tt.origin != "" && got.URL.EscapedPath() != tt.origin:
				t.Errorf("origin got path %q, want %q", got.URL.EscapedPath(), tt.origin)
			}
		})
	}
}
