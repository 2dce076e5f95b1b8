package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestAppCookie(t *testing.T) {
	h := New(Options{})
	tests := []struct {
		name     string
		app      *access.App
		cookie   string
		httpOnly bool
		sameSite http.SameSite
		secure   bool
		path     string
	}{
		{"defaults", &access.App{}, access.CookieAuthorization, true, http.SameSiteLaxMode, false, "/"},
		{"nil app", nil, access.CookieAuthorization, true, http.SameSiteLaxMode, false, "/"},
		{"not http only", &access.App{Settings: access.Settings{Cookie: access.CookieSettings{NoHTTPOnly: true}}}, access.CookieAuthorization, false, http.SameSiteLaxMode, false, "/"},
		{"binding stays http only", &access.App{Settings: access.Settings{Cookie: access.CookieSettings{NoHTTPOnly: true}}}, access.CookieBinding, true, http.SameSiteLaxMode, false, "/"},
		{"strict", &access.App{Settings: access.Settings{Cookie: access.CookieSettings{SameSite: "strict"}}}, access.CookieAuthorization, true, http.SameSiteStrictMode, false, "/"},
		{"none implies secure", &access.App{Settings: access.Settings{Cookie: access.CookieSettings{SameSite: "none"}}}, access.CookieAuthorization, true, http.SameSiteNoneMode, true, "/"},
		{"path cookie", &access.App{Path: "/api/*", Settings: access.Settings{Cookie: access.CookieSettings{PathCookie: true}}}, access.CookieAuthorization, true, http.SameSiteLaxMode, false, "/api"},
		{"path ignored without path_cookie", &access.App{Path: "/api"}, access.CookieAuthorization, true, http.SameSiteLaxMode, false, "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := h.appCookie(tc.app, tc.cookie, "v", 60)
			if c.HttpOnly != tc.httpOnly || c.SameSite != tc.sameSite || c.Secure != tc.secure || c.Path != tc.path || c.MaxAge != 60 {
				t.Errorf("cookie = %+v", c)
			}
		})
	}
}

func TestBindingOK(t *testing.T) {
	tests := []struct {
		name   string
		cookie string
		want   string
		ok     bool
	}{
		{"unbound token", "", "", true},
		{"matching", "CF_Binding=abc", hashHex("abc"), true},
		{"missing", "CF_Authorization=x", hashHex("abc"), false},
		{"wrong", "CF_Binding=abd", hashHex("abc"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", tc.cookie)
			}
			if got := bindingOK(r, tc.want); got != tc.ok {
				t.Errorf("bindingOK = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestServiceCredentials(t *testing.T) {
	app := &access.App{Settings: access.Settings{ServiceTokenHeader: "Authorization"}}
	tests := []struct {
		name string
		hdr  map[string]string
		id   string
	}{
		{"standard headers", map[string]string{access.HeaderClientID: "a.access", access.HeaderClientSecret: "s"}, "a.access"},
		{"json header", map[string]string{"Authorization": `{"cf-access-client-id":"b.access","cf-access-client-secret":"s"}`}, "b.access"},
		{"bearer is not a service token", map[string]string{"Authorization": "Bearer xyz"}, ""},
		{"bad json", map[string]string{"Authorization": `{"cf-access-client-id":`}, ""},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			if id, _ := serviceCredentials(r, app); id != tc.id {
				t.Errorf("got %q", id)
			}
		})
	}
}

func TestCORSOrigin(t *testing.T) {
	c := access.CORS{AllowedOrigins: []string{"https://a.example.com/"}}
	if corsOrigin(c, "https://a.example.com") != "https://a.example.com" || corsOrigin(c, "https://b.example.com") != "" {
		t.Error("allowed origin list not applied")
	}
	wild := access.CORS{AllowedOrigins: []string{"*"}}
	if corsOrigin(wild, "https://z.example") != "https://z.example" || corsOrigin(wild, "") != "" {
		t.Error("wildcard origin not echoed")
	}
}

// svcStore is a fakeStore with one service token.
type svcStore struct {
	*fakeStore
	disabled bool
}

func (s *svcStore) CheckServiceToken(id, secret string, _ time.Time) (string, bool) {
	return "bot", id == "abc.access" && secret == "sekret" && !s.disabled
}

func (s *svcStore) ServiceTokenActive(id string, _ time.Time) (string, bool) {
	return "bot", id == "abc.access" && !s.disabled
}

func TestServiceTokenProxy(t *testing.T) {
	var rc recorded
	origin := httptest.NewServer(http.HandlerFunc(rc.handler))
	defer origin.Close()
	st := &svcStore{fakeStore: newFakeStore()}
	f := newFixture(t, origin.URL, func(o *Options) {
		o.Store = st
		table := access.NewTable([]*access.App{{Name: "svc", AUD: audDemo, Domains: []string{"svc.example.com"}, Origin: origin.URL,
			Policies: []access.Policy{{Name: "bots", Decision: access.ServiceAuth, Include: []access.Rule{{ServiceTokens: []string{"bot"}}}}},
			Settings: access.Settings{ServiceAuth401: true}}})
		o.Apps = func() *access.Table { return table }
	})
	do := func(hdr map[string]string) *http.Response {
		r := httptest.NewRequest(http.MethodGet, "http://svc.example.com/x", nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w.Result()
	}
	if resp := do(nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d, want 401", resp.StatusCode)
	}
	resp := do(map[string]string{access.HeaderClientID: "abc.access", access.HeaderClientSecret: "sekret"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("service token: %d", resp.StatusCode)
	}
	got, _ := rc.last()
	if got.Header.Get(access.HeaderClientSecret) != "" || got.Header.Get(access.HeaderJWTAssertion) == "" || got.Header.Get(access.HeaderUserEmail) != "" {
		t.Errorf("origin headers: %v", got.Header)
	}
	ck := cookieFrom(resp, access.CookieAuthorization)
	if ck == nil {
		t.Fatal("no CF_Authorization set")
	}
	cookie := map[string]string{"Cookie": access.CookieAuthorization + "=" + ck.Value}
	if resp := do(cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("cookie: %d", resp.StatusCode)
	}
	st.disabled = true
	if resp := do(cookie); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("cookie after disable: %d, want 401", resp.StatusCode)
	}
}
