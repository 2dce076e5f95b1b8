package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

func TestUnknownHostIsNotFound(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)

	for _, target := range []string{"http://nobody.example.com/", "http://nobody.example.com" + access.PathAuthorized + "?nonce=x"} {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, rec.Code)
		}
		if rec.Header().Get("X-Frame-Options") == "" {
			t.Errorf("%s: own page without security headers", target)
		}
	}
	if _, n := origin.last(); n != 0 {
		t.Fatalf("origin called %d times for an unknown host", n)
	}
}

func TestNavigationWithoutTokenRedirectsToLogin(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", "http://app.example.com/a/b?x=1&y=%20z", nil))
	resp := rec.Result()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302", resp.StatusCode)
	}
	c := cookieFrom(resp, access.CookieAppSession)
	if c == nil || len(c.Value) != 32 || !c.HttpOnly || c.Path != "/" || c.MaxAge != 3600 || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("CF_AppSession cookie = %+v", c)
	}
	want := teamURL + "/cdn-cgi/access/login/app.example.com?kid=" + audDemo +
		"&redirect_url=" + url.QueryEscape("/a/b?x=1&y=%20z") + "&app_session=" + hashHex(c.Value)
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("Location\n got %s\nwant %s", got, want)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}

	// A second tab reuses the cookie already set.
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://app.example.com/other", nil)
	req.AddCookie(c)
	f.h.ServeHTTP(rec, req)
	if got := rec.Result().Header.Get("Location"); !strings.HasSuffix(got, "&app_session="+hashHex(c.Value)) {
		t.Errorf("second tab: Location %s does not reuse the app session", got)
	}
}

func TestXHRWithoutTokenGets401JSON(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", nil)
	tests := []struct {
		name     string
		origin   string
		wantCORS bool
	}{
		{name: "sibling domain", origin: "https://api.example.com", wantCORS: true},
		{name: "same host", origin: "https://app.example.com", wantCORS: true},
		{name: "foreign origin", origin: "https://evil.example.net", wantCORS: false},
		{name: "wildcard pattern is not an origin", origin: "https://x.wild.example.com", wantCORS: false},
		{name: "no origin", origin: "", wantCORS: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "http://app.example.com/api/items", nil)
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			f.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", rec.Code)
			}
			if rec.Header().Get("Location") != "" {
				t.Error("XHR got a Location header")
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != "Cloudflare-Access" {
				t.Errorf("WWW-Authenticate %q", got)
			}
			var body web.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			wantPrefix := teamURL + "/cdn-cgi/access/login/app.example.com?kid=" + audDemo + "&redirect_url=%2Fapi%2Fitems&app_session="
			if body.Status != http.StatusUnauthorized || body.Error == "" || !strings.HasPrefix(body.LoginURL, wantPrefix) {
				t.Errorf("body %+v", body)
			}
			acao := rec.Header().Get("Access-Control-Allow-Origin")
			acac := rec.Header().Get("Access-Control-Allow-Credentials")
			if tt.wantCORS && (acao != tt.origin || acac != "true" || rec.Header().Get("Vary") != "Origin") {
				t.Errorf("CORS headers missing: ACAO %q ACAC %q", acao, acac)
			}
			if !tt.wantCORS && (acao != "" || acac != "") {
				t.Errorf("CORS headers for %q: ACAO %q ACAC %q", tt.origin, acao, acac)
			}
		})
	}
}

func TestValidTokenReachesOriginWithInjectedHeaders(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://app.example.com/page?q=1", nil)
	req.Header.Set("Cookie", "theme=dark; CF_Authorization="+raw+"; CF_Binding=bind; CF_AppSession=0123; lang=en")
	req.Header.Set(access.HeaderJWTAssertion, "forged.jwt.value")
	req.Header.Set(access.HeaderUserEmail, "mallory@example.com")
	req.Header.Set(access.HeaderClientID, "id")
	req.Header.Set(access.HeaderClientSecret, "secret")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Forwarded-Host", "evil.example.net")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "for=6.6.6.6")
	f.h.ServeHTTP(rec, req)

	if rec.Code != http.StatusOK || rec.Body.String() != "origin says hi" {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("X-Frame-Options") != "" {
		t.Error("proxied response got Gatehouse's security headers")
	}
	got, _ := origin.last()
	checks := []struct {
		name, header, want string
	}{
		{"jwt", access.HeaderJWTAssertion, raw},
		{"email", access.HeaderUserEmail, "ann@example.com"},
		{"client id", access.HeaderClientID, ""},
		{"client secret", access.HeaderClientSecret, ""},
		{"xff", "X-Forwarded-For", "192.0.2.1"},
		{"x-forwarded-host", "X-Forwarded-Host", "app.example.com"},
		{"x-forwarded-proto", "X-Forwarded-Proto", "http"},
		{"forwarded", "Forwarded", ""},
	}
	for _, c := range checks {
		if v := got.Header.Get(c.header); v != c.want {
			t.Errorf("%s: origin saw %s = %q, want %q", c.name, c.header, v, c.want)
		}
	}
	if n := len(got.Header.Values(access.HeaderJWTAssertion)); n != 1 {
		t.Errorf("origin saw %d JWT headers", n)
	}
	for name, want := range map[string]bool{"theme": true, "lang": true, access.CookieAuthorization: true, access.CookieBinding: false, access.CookieAppSession: false} {
		if hasCookie(got.Header, name) != want {
			t.Errorf("cookie %s at origin: %v, want %v (Cookie %q)", name, !want, want, got.Header.Get("Cookie"))
		}
	}
	if got.URL.RequestURI() != "/page?q=1" {
		t.Errorf("origin path %q", got.URL.RequestURI())
	}
}

func TestTrustedProxyKeepsForwardingChain(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	req := httptest.NewRequest("GET", "http://app.example.com/", nil)
	req.Header.Set("Cf-Access-Token", raw)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Forwarded-Proto", "https")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	got, _ := origin.last()
	if v := got.Header.Get("X-Forwarded-For"); v != "203.0.113.7, 192.0.2.1" {
		t.Errorf("X-Forwarded-For %q", v)
	}
	if v := got.Header.Get("X-Forwarded-Proto"); v != "https" {
		t.Errorf("X-Forwarded-Proto %q", v)
	}
	if v := got.Header.Get(access.HeaderAccessToken); v != "" {
		t.Errorf("cf-access-token reached the origin")
	}
	if v := got.Header.Get(access.HeaderJWTAssertion); v != raw {
		t.Errorf("JWT header %q", v)
	}
}

func TestUnusableTokenRedirects(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	f.store.revoked["RRRRRRRRRRRRRRRR"] = true
	tests := []struct {
		name string
		raw  string
	}{
		{name: "revoked session", raw: appToken(t, f.keys, "ann@example.com", audDemo, "RRRRRRRRRRRRRRRR", testNow, time.Hour)},
		{name: "expired a second ago, refresh refused", raw: appToken(t, f.keys, "ann@example.com", audDemo, "EEEEEEEEEEEEEEEE", testNow.Add(-time.Hour-time.Second), time.Hour)},
		{name: "at exp exactly, refresh refused", raw: appToken(t, f.keys, "ann@example.com", audDemo, "EEEEEEEEEEEEEEEE", testNow.Add(-time.Hour), time.Hour)},
		{name: "expired, no session to refresh from", raw: appToken(t, f.keys, "ann@example.com", audDemo, "EEEEEEEEEEEEEEEE", testNow.Add(-3*time.Hour), time.Hour)},
		{name: "another app's aud", raw: appToken(t, f.keys, "ann@example.com", audOps, nonceA, testNow, time.Hour)},
		{name: "garbage", raw: "not-a-jwt"},
		{name: "forged assertion header only", raw: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://app.example.com/x", nil)
			if tt.raw != "" {
				req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: tt.raw})
			} else {
				req.Header.Set(access.HeaderJWTAssertion, "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6Im1AeC5jb20ifQ.")
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), teamURL+"/cdn-cgi/access/login/app.example.com?") {
				t.Fatalf("status %d Location %q, want a 302 to login", rec.Code, rec.Header().Get("Location"))
			}
		})
	}
	if _, n := origin.last(); n != 0 {
		t.Fatalf("origin reached %d times", n)
	}
}

func TestBypassReachesOriginWithoutToken(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	req := httptest.NewRequest("GET", "http://public.example.com/status", nil)
	req.Header.Set(access.HeaderUserEmail, "forged@example.com")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	got, n := origin.last()
	if n != 1 || got.Header.Get(access.HeaderUserEmail) != "" || got.Header.Get(access.HeaderJWTAssertion) != "" {
		t.Fatalf("origin calls %d, identity headers %v", n, got.Header)
	}
}

func TestPerRequestIPRangeCheck(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	raw := appToken(t, f.keys, "ann@example.com", audOps, nonceA, testNow, time.Hour)
	tests := []struct {
		name   string
		remote string
		want   int
	}{
		{name: "inside the office range", remote: "10.1.2.3:5555", want: http.StatusOK},
		{name: "outside the office range", remote: "192.0.2.1:5555", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://office.example.com/", nil)
			req.RemoteAddr = tt.remote
			req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}

func TestUpstreamSetCookieStripped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "CF_Authorization=upstream; Path=/")
		w.Header().Add("Set-Cookie", "cf_binding=x; Path=/")
		w.Header().Add("Set-Cookie", "CF_AppSession=y")
		w.Header().Add("Set-Cookie", "app_pref=1; Path=/")
	}))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	req := httptest.NewRequest("GET", "http://public.example.com/", nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	got := rec.Header().Values("Set-Cookie")
	if len(got) != 1 || got[0] != "app_pref=1; Path=/" {
		t.Fatalf("Set-Cookie reaching the browser: %q", got)
	}
}

func TestOriginDownIs502WithoutDetail(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close()
	f := newFixture(t, dead, nil)
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	for _, xhr := range []bool{false, true} {
		req := httptest.NewRequest("GET", "http://app.example.com/", nil)
		req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
		if xhr {
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != http.StatusBadGateway || !strings.Contains(body, "The application is not reachable right now") {
			t.Fatalf("xhr=%v: status %d body %q", xhr, rec.Code, body)
		}
		host := strings.TrimPrefix(dead, "http://")
		if strings.Contains(body, host) || strings.Contains(body, "refused") || strings.Contains(body, "dial") {
			t.Errorf("xhr=%v: body leaks upstream detail: %q", xhr, body)
		}
		if xhr != strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("xhr=%v: Content-Type %q", xhr, rec.Header().Get("Content-Type"))
		}
	}
}

func TestWhoamiOriginGetsRewrittenRequest(t *testing.T) {
	var origin recorded
	f := newFixture(t, OriginWhoami, func(o *Options) { o.Whoami = http.HandlerFunc(origin.handler) })
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	req := httptest.NewRequest("GET", "http://app.example.com/", nil)
	req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
	req.AddCookie(&http.Cookie{Name: access.CookieBinding, Value: "b"})
	req.Header.Set(access.HeaderUserEmail, "mallory@example.com")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	got, n := origin.last()
	if rec.Code != http.StatusOK || n != 1 {
		t.Fatalf("status %d, calls %d", rec.Code, n)
	}
	if got.Header.Get(access.HeaderUserEmail) != "ann@example.com" || got.Header.Get(access.HeaderJWTAssertion) != raw ||
		got.Header.Get("X-Forwarded-For") != "192.0.2.1" || hasCookie(got.Header, access.CookieBinding) {
		t.Fatalf("whoami saw %v", got.Header)
	}
	if req.Header.Get(access.HeaderUserEmail) != "mallory@example.com" {
		t.Error("the inbound request was modified in place")
	}
}

// TestPolicyChangeReachesLiveTokens judges a still-valid token by the app's
// current policies with every selector, from the identity stored with the
// session: a reload that adds a block or drops the user's group holds at
// the next request.
func TestPolicyChangeReachesLiveTokens(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	tests := []struct {
		name     string
		policies []access.Policy
		want     int
	}{
		{"unchanged", everyone, http.StatusOK},
		{"block added", append([]access.Policy{{Name: "no-ann", Decision: access.Block,
			Include: []access.Rule{{Emails: []string{"ann@example.com"}}}}}, everyone...), http.StatusForbidden},
		{"group rule she is not in", []access.Policy{{Name: "ops", Decision: access.Allow,
			Include: []access.Rule{{Groups: []string{"ops"}}}}}, http.StatusForbidden},
		{"group rule she is in", []access.Policy{{Name: "eng", Decision: access.Allow,
			Include: []access.Rule{{Groups: []string{"eng"}}}}}, http.StatusOK},
		{"idps rule for another provider", []access.Policy{{Name: "okta", Decision: access.Allow,
			Include: []access.Rule{{IdPs: []string{"okta"}}}}}, http.StatusForbidden},
		{"exclude by claim", []access.Policy{{Name: "x", Decision: access.Allow, Include: []access.Rule{{Everyone: true}},
			Exclude: []access.Rule{{Claims: map[string][]string{"dept": {"sales"}}}}}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, srv.URL, nil)
			f.store.sessions[nonceA] = access.Session{Nonce: nonceA, CreatedAt: testNow.Add(-time.Hour), ExpiresAt: testNow.Add(time.Hour),
				Identity: access.Identity{Email: "ann@example.com", Groups: []string{"eng"}, IdP: access.IdP{ID: "pin"},
					Custom: map[string]any{"dept": "sales"}}}
			raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
			get := func() int {
				req := httptest.NewRequest("GET", "http://app.example.com/", nil)
				req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
				rec := httptest.NewRecorder()
				f.h.ServeHTTP(rec, req)
				return rec.Code
			}
			if got := get(); got != http.StatusOK {
				t.Fatalf("before the change: status %d", got)
			}
			f.h.o.Apps().Apps()[0].Policies = tt.policies // what a reload swaps in
			if got := get(); got != tt.want {
				t.Fatalf("after the change: status %d, want %d", got, tt.want)
			}
		})
	}
}
