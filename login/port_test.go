package login

import (
	"net/http"
	"strings"
	"testing"
)

// TestHandoffPortBound checks that a sign-in link naming an app's host name
// with another port does not mint a hand-off for it: the nonce would go to
// whatever listens on that port.
func TestHandoffPortBound(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		status   int
		handoffs int
	}{
		{name: "plain host", host: demoHost, status: http.StatusFound, handoffs: 1},
		{name: "default https port", host: demoHost + ":443", status: http.StatusFound, handoffs: 1},
		{name: "foreign port", host: demoHost + ":8444", status: http.StatusBadRequest},
		{name: "foreign port, upper case", host: "DEMO.example.com:9999", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t)
			org, _ := hs.orgCookie("ann@example.com")
			w := hs.do("GET", loginURL(tt.host, "/"), nil, org)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body:\n%s", w.Code, tt.status, w.Body)
			}
			if got := len(hs.store.handoffs); got != tt.handoffs {
				t.Errorf("%d hand-offs, want %d", got, tt.handoffs)
			}
			if loc := w.Header().Get("Location"); tt.handoffs == 0 && strings.Contains(loc, "nonce=") {
				t.Errorf("nonce sent to %q", loc)
			}
		})
	}
}
