package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestForwardAuth(t *testing.T) {
	f := newFixture(t, "", func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
	})
	f.h.o.Apps().Apps()[0].Origin = "" // demo: reached through its edge
	valid := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	expired := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-2*time.Hour), time.Hour)
	type hdrs map[string]string
	caddy := func(host, uri string) hdrs {
		return hdrs{"X-Forwarded-Method": "GET", "X-Forwarded-Host": host, "X-Forwarded-Uri": uri, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
	}
	nginx := func(uri string) hdrs { return hdrs{"X-Original-URI": uri, "X-Original-Method": "GET"} }
	tests := []struct {
		name     string
		peer     string
		host     string
		hdr      hdrs
		cookie   string
		status   int
		identity bool
		location bool
		cookieOK bool
		signIn   bool
	}{
		{name: "caddy, valid token", hdr: caddy("app.example.com", "/x?y=1"), cookie: valid, status: 200, identity: true},
		{name: "nginx, valid token", host: "app.example.com", hdr: nginx("/x"), cookie: valid, status: 200, identity: true},
		{name: "caddy, no token: redirect to login", hdr: caddy("app.example.com", "/x"), status: http.StatusFound, location: true},
		{name: "nginx, no token: 401 with the host's sign-in start in Location", host: "app.example.com", hdr: nginx("/x"), status: http.StatusUnauthorized, signIn: true},
		{name: "xhr without token: 401 JSON", hdr: hdrs{"X-Forwarded-Host": "app.example.com", "X-Forwarded-Uri": "/api", "X-Requested-With": "XMLHttpRequest"}, status: http.StatusUnauthorized},
		{name: "expired token refreshed", hdr: caddy("app.example.com", "/x"), cookie: expired, status: 200, identity: true, cookieOK: true},
		{name: "bypass app: no identity", hdr: caddy("public.example.com", "/"), status: 200},
		{name: "untrusted peer", peer: "198.51.100.1:4000", hdr: caddy("app.example.com", "/x"), cookie: valid, status: http.StatusForbidden},
		{name: "no original URI", hdr: hdrs{"X-Forwarded-Host": "app.example.com"}, cookie: valid, status: http.StatusBadRequest},
		{name: "ambiguous path", hdr: caddy("app.example.com", "/a/..%2fb"), cookie: valid, status: http.StatusBadRequest},
		{name: "unknown host", hdr: caddy("nope.example.com", "/"), cookie: valid, status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tt.host
			if host == "" {
				host = "gatehouse.internal"
			}
			req := httptest.NewRequest("GET", "http://"+host+access.PathForwardAuth, nil)
			req.RemoteAddr = "10.9.0.2:5000"
			if tt.peer != "" {
				req.RemoteAddr = tt.peer
			}
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			req.Header.Set(access.HeaderUserEmail, "forged@evil.example")
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: tt.cookie})
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			email := rec.Header().Get(access.HeaderUserEmail)
			if strings.Contains(email, "forged") {
				t.Fatal("the client's identity header was echoed to the edge")
			}
			if tt.identity != (email == "ann@example.com" && rec.Header().Get(access.HeaderJWTAssertion) != "") {
				t.Errorf("identity headers: email %q assertion %t", email, rec.Header().Get(access.HeaderJWTAssertion) != "")
			}
			if loc := rec.Header().Get("Location"); tt.location != strings.Contains(loc, access.PathLogin+"app.example.com") ||
				tt.signIn != (loc == access.PathSignIn+"?redirect_url=%2Fx") {
				t.Errorf("Location %q", loc)
			}
			if c := cookieFrom(rec.Result(), access.CookieAuthorization); tt.cookieOK != (c != nil && c.Value != "") {
				t.Errorf("refreshed cookie %+v", c)
			}
		})
	}
	t.Run("direct request to a forward-auth app", func(t *testing.T) {
		req := httptest.NewRequest("GET", "http://app.example.com/", nil)
		req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: valid})
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMisdirectedRequest {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// TestSignInStart: the host's sign-in start sets CF_AppSession and sends the
// browser to the team domain's login for the app covering redirect_url.
func TestSignInStart(t *testing.T) {
	f := newFixture(t, "", nil)
	req := httptest.NewRequest("GET", "http://app.example.com"+access.PathSignIn+"?redirect_url=%2Fdocs%3Fa%3D1", nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusFound || !strings.HasPrefix(loc, teamURL+access.PathLogin+"app.example.com?kid="+audDemo) ||
		!strings.Contains(loc, "redirect_url=%2Fdocs%3Fa%3D1") {
		t.Fatalf("%d Location %q", rec.Code, loc)
	}
	if c := cookieFrom(rec.Result(), access.CookieAppSession); c == nil || !validAppSession(c.Value) {
		t.Fatalf("CF_AppSession %+v", c)
	}
	req = httptest.NewRequest("GET", "http://app.example.com"+access.PathSignIn+"?redirect_url=https%3A%2F%2Fevil.example%2F", nil)
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); strings.Contains(loc, "evil.example") {
		t.Fatalf("open redirect: %q", loc)
	}
}
