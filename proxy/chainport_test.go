package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestChainNextPortBound checks that the "next" chain of an authorized URL
// only moves the browser between the app's domains on the listener's port:
// a domain without a port matches any port, which must not make "next" an
// open redirect to another service on the same host name.
func TestChainNextPortBound(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		next    string
		wantLoc string // "" when the chain must be refused
	}{
		{name: "sibling domain", host: "app.example.com", next: "https://api.example.com/", wantLoc: "https://api.example.com/"},
		{name: "default port", host: "app.example.com", next: "https://api.example.com:443/", wantLoc: "https://api.example.com:443/"},
		{name: "listener port", host: "app.example.com:8443", next: "https://api.example.com:8443/", wantLoc: "https://api.example.com:8443/"},
		{name: "foreign port", host: "app.example.com", next: "https://api.example.com:9999/"},
		{name: "foreign port, same host", host: "app.example.com:8443", next: "https://app.example.com:9999/"},
		{name: "foreign host", host: "app.example.com", next: "https://evil.example.net/"},
	}
	f := newFixture(t, "http://127.0.0.1:1", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://"+tt.host+access.PathAuthorized+"?next="+url.QueryEscape(tt.next), nil)
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			loc := rec.Header().Get("Location")
			if tt.wantLoc == "" {
				if rec.Code != http.StatusBadRequest || loc != "" {
					t.Fatalf("status %d Location %q, want 400 and no redirect", rec.Code, loc)
				}
				return
			}
			if rec.Code != http.StatusFound || loc != tt.wantLoc {
				t.Fatalf("status %d Location %q, want 302 to %q", rec.Code, loc, tt.wantLoc)
			}
		})
	}
}

// TestChainHopIsBrowserBound: a hop URL carries no credential; the sibling
// starts its own sign-in hand-off bound to a CF_AppSession cookie it sets.
func TestChainHopIsBrowserBound(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", nil)
	next := "https://app.example.com/start"
	req := httptest.NewRequest("GET", "http://api.example.com"+access.HopURL(audDemo)+"&next="+url.QueryEscape(next), nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d", rec.Code)
	}
	if c := cookieFrom(rec.Result(), access.CookieAuthorization); c != nil {
		t.Fatalf("a hop set the app cookie: %+v", c)
	}
	session := cookieFrom(rec.Result(), access.CookieAppSession)
	if session == nil || !validAppSession(session.Value) {
		t.Fatalf("no CF_AppSession set: %+v", session)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Host != "auth.example.com" || loc.Path != access.PathLogin+"api.example.com" {
		t.Fatalf("Location %s", rec.Header().Get("Location"))
	}
	q := loc.Query()
	if q.Get("kid") != audDemo || q.Get("app_session") != hashHex(session.Value) ||
		q.Get("redirect_url") != access.PathAuthorized+"?next="+url.QueryEscape(next) {
		t.Fatalf("login query %v", q)
	}
	t.Run("unknown app", func(t *testing.T) {
		req := httptest.NewRequest("GET", "http://api.example.com"+access.HopURL(audOps), nil)
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
