package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestAuthorized(t *testing.T) {
	const appSession = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name       string
		host       string
		nonce      string
		cookie     string
		wantStatus int
		wantLoc    string
	}{
		{name: "consumes and redirects", host: "app.example.com", nonce: "n1", cookie: appSession, wantStatus: http.StatusFound, wantLoc: "/after?x=1"},
		{name: "unsafe redirect becomes root", host: "app.example.com", nonce: "n3", cookie: appSession, wantStatus: http.StatusFound, wantLoc: "/"},
		{name: "app session mismatch", host: "app.example.com", nonce: "n2", cookie: "ffffffffffffffffffffffffffffffff", wantStatus: http.StatusBadRequest},
		{name: "app session missing", host: "app.example.com", nonce: "n4", wantStatus: http.StatusBadRequest},
		{name: "unknown nonce", host: "app.example.com", nonce: "nope", cookie: appSession, wantStatus: http.StatusBadRequest},
		{name: "other host", host: "ops.example.com", nonce: "n5", cookie: appSession, wantStatus: http.StatusBadRequest},
		{name: "unbound hand-off", host: "app.example.com", nonce: "n6", cookie: appSession, wantStatus: http.StatusBadRequest},
		{name: "no nonce", host: "app.example.com", nonce: "", cookie: appSession, wantStatus: http.StatusBadRequest},
	}
	f := newFixture(t, "http://127.0.0.1:1", func(o *Options) { o.Secure = true })
	for _, n := range []string{"n1", "n2", "n4", "n5"} {
		f.store.handoffs[n] = handoff{host: "app.example.com", h: access.Handoff{
			Token: "tok-" + n, RedirectURL: "/after?x=1", AppSessionHash: hashHex(appSession), MaxAge: 600,
		}}
	}
	f.store.handoffs["n3"] = handoff{host: "app.example.com", h: access.Handoff{Token: "tok-n3", RedirectURL: "//evil.example.net/",
		AppSessionHash: hashHex(appSession), MaxAge: 600}}
	f.store.handoffs["n6"] = handoff{host: "app.example.com", h: access.Handoff{Token: "tok-n6", RedirectURL: "/", MaxAge: 600}}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://"+tt.host+access.PathAuthorized+"?nonce="+tt.nonce+"&state=s", nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: access.CookieAppSession, Value: tt.cookie})
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			resp := rec.Result()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, rec.Body.String())
			}
			if tt.wantStatus != http.StatusFound {
				if !strings.Contains(rec.Body.String(), "Invalid login session") || cookieFrom(resp, access.CookieAuthorization) != nil {
					t.Fatalf("body %q cookies %v", rec.Body.String(), resp.Cookies())
				}
				return
			}
			if loc := resp.Header.Get("Location"); loc != tt.wantLoc {
				t.Errorf("Location %q, want %q", loc, tt.wantLoc)
			}
			c := cookieFrom(resp, access.CookieAuthorization)
			if c == nil || c.Value != "tok-"+tt.nonce || c.MaxAge != 600 || !c.HttpOnly || !c.Secure || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("CF_Authorization cookie %+v", c)
			}
			if d := cookieFrom(resp, access.CookieAppSession); d == nil || d.MaxAge >= 0 {
				t.Errorf("CF_AppSession not deleted: %+v", d)
			}
			if !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
		})
	}

	t.Run("reused nonce", func(t *testing.T) {
		req := httptest.NewRequest("GET", "http://app.example.com"+access.PathAuthorized+"?nonce=n1", nil)
		req.AddCookie(&http.Cookie{Name: access.CookieAppSession, Value: appSession})
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", rec.Code)
		}
	})
	if len(f.store.events) != 0 {
		t.Errorf("authorized audited %v", f.store.events)
	}
}

func TestGetIdentity(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", nil)
	f.store.sessions[nonceA] = access.Session{
		Nonce: nonceA,
		Identity: access.Identity{
			UserID: "u-1", Email: "ann@example.com", Name: "Ann", Groups: []string{"eng"},
			IdP: access.IdP{ID: "pin", Type: "onetimepin"}, IP: "192.0.2.1", IssuedAt: testNow.Unix(),
		},
		CreatedAt: testNow.Add(-time.Hour),
		ExpiresAt: testNow.Add(time.Hour),
	}
	f.store.sessions["GONEGONEGONEGONE"] = access.Session{Nonce: "GONEGONEGONEGONE", ExpiresAt: testNow.Add(-time.Minute)}
	tests := []struct {
		name  string
		raw   string
		want  int
		email string
	}{
		{name: "valid", raw: appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour), want: http.StatusOK, email: "ann@example.com"},
		{name: "no token", want: http.StatusUnauthorized},
		{name: "wrong aud", raw: appToken(t, f.keys, "ann@example.com", audOps, nonceA, testNow, time.Hour), want: http.StatusUnauthorized},
		{name: "expired session", raw: appToken(t, f.keys, "ann@example.com", audDemo, "GONEGONEGONEGONE", testNow, time.Hour), want: http.StatusUnauthorized},
		{name: "unknown session", raw: appToken(t, f.keys, "ann@example.com", audDemo, "ZZZZZZZZZZZZZZZZ", testNow, time.Hour), want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://app.example.com"+access.PathGetIdentity, nil)
			if tt.raw != "" {
				req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: tt.raw})
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body.String())
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if tt.want != http.StatusOK {
				if got["status"] != float64(http.StatusUnauthorized) || got["error"] == "" {
					t.Errorf("body %v", got)
				}
				return
			}
			idp, _ := got["idp"].(map[string]any)
			if got["email"] != tt.email || got["name"] != "Ann" || got["identity_nonce"] != nonceA ||
				got["user_uuid"] != "u-1" || idp["type"] != "onetimepin" || got["iat"] != float64(testNow.Unix()) {
				t.Errorf("identity %v", got)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", nil)
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			req := httptest.NewRequest(method, "http://app.example.com"+access.PathLogout, nil)
			req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			resp := rec.Result()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != teamURL+"/cdn-cgi/access/logout?host=app.example.com" {
				t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if c := cookieFrom(resp, access.CookieAuthorization); c == nil || c.MaxAge >= 0 || c.Value != "" || c.Path != "/" {
				t.Errorf("cookie not cleared: %+v", c)
			}
		})
	}
	if !f.store.revoked[nonceA] {
		t.Fatal("session not revoked")
	}
	// GET revoked the session, so POST had no valid token: one audit event.
	if len(f.store.events) != 1 || f.store.events[0].Kind != access.EventSignOut || f.store.events[0].Email != "ann@example.com" || f.store.events[0].App != "demo" {
		t.Fatalf("audit events %+v", f.store.events)
	}
	// The revoked token no longer opens the app.
	req := httptest.NewRequest("GET", "http://app.example.com/", nil)
	req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusFound {
		t.Fatalf("after logout: status %d, want 302", rec.Code)
	}
}

func TestReservedPathsAnsweredOnPathApps(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", "http://app.example.com/cdn-cgi/access/unknown", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown reserved path: status %d, want 404", rec.Code)
	}
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("DELETE", "http://app.example.com"+access.PathLogout, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE logout: status %d, want 405", rec.Code)
	}
}
