package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestForgedHeadersNeverReachOrigin sends every spelling of every header a
// client must not forge, over a real connection to a recording origin, and
// asserts what reached it.
func TestForgedHeadersNeverReachOrigin(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	f.h.o.Apps().Apps()[0].ServiceTokenHeader = "X-Svc-Auth"
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	forged := []string{
		"Cf-Access-Authenticated-User-Email", "cf-access-authenticated-user-email", "CF-ACCESS-AUTHENTICATED-USER-EMAIL",
		"Cf_Access_Authenticated_User_Email", "cf_access_authenticated_user_email", "Cf-Access_Authenticated-User_Email",
		"Cf-Access-Jwt-Assertion", "Cf_Access_Jwt_Assertion", "CF_ACCESS_JWT_ASSERTION",
		"Cf-Access-Client-Id", "Cf_Access_Client_Secret", "Cf-Access-Token", "cf_access_token",
		"Cf-Access-Anything-New", "Cf_Access_Groups",
		"X-Forwarded-For", "X_Forwarded_For", "x-forwarded-host", "X_Forwarded_Proto", "X-Forwarded-User", "X_Forwarded_Email",
		"Forwarded", "X-Real-IP", "X_Real_Ip", "True-Client-IP", "X-Client-IP",
		"X-Original-URL", "X_Original_Url", "X-Rewrite-URL", "x_rewrite_url",
		"X-Svc-Auth", "x_svc_auth",
	}
	req, _ := http.NewRequest("GET", "http://app.example.com/", nil)
	for _, name := range forged {
		req.Header[name] = []string{"forged@evil.example"} // not canonicalised: sent as spelled
	}
	req.Header.Set("X-Kept", "yes")
	req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d %s", rec.Code, rec.Body.String())
	}
	got, n := origin.last()
	if n != 1 {
		t.Fatalf("origin reached %d times", n)
	}
	for name, vals := range got.Header {
		for _, v := range vals {
			if strings.Contains(v, "forged@evil.example") {
				t.Errorf("forged header %s: %q reached the origin", name, v)
			}
		}
	}
	if a := got.Header.Get(access.HeaderJWTAssertion); a != raw {
		t.Errorf("assertion = %.20q, want the verified token", a)
	}
	if e := got.Header.Get(access.HeaderUserEmail); e != "ann@example.com" {
		t.Errorf("email = %q", e)
	}
	if got.Header.Get("X-Kept") != "yes" {
		t.Error("an ordinary header was dropped")
	}
}

func TestHeaderNameEq(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Cf-Access-Jwt-Assertion", "cf_access_jwt_assertion", true},
		{"X-Forwarded-For", "X_FORWARDED_FOR", true},
		{"X-Forwarded-For", "X-Forwarded-Fo", false},
		{"X-Forwarded-For", "X.Forwarded.For", false},
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := headerNameEq(tt.a, tt.b); got != tt.want {
				t.Fatalf("headerNameEq = %v", got)
			}
		})
	}
}

// TestCookieTossingNeverChoosesIdentity plants a second, valid
// CF_Authorization (another user's, as a sibling subdomain would set for the
// parent domain) beside the host's own, in either order.
func TestCookieTossingNeverChoosesIdentity(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	f.store.sessions["MMMMMMMMMMMMMMMM"] = access.Session{Nonce: "MMMMMMMMMMMMMMMM", CreatedAt: testNow.Add(-time.Hour),
		ExpiresAt: testNow.Add(time.Hour), Identity: access.Identity{Email: "mallory@example.com"}}
	mine := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	planted := appToken(t, f.keys, "mallory@example.com", audDemo, "MMMMMMMMMMMMMMMM", testNow, time.Hour)
	otherApp := appToken(t, f.keys, "ann@example.com", audOps, nonceA, testNow, time.Hour)
	tests := []struct {
		name, cookie string
		xhr          bool
	}{
		{"planted first", access.CookieAuthorization + "=" + planted + "; " + access.CookieAuthorization + "=" + mine, false},
		{"planted last", access.CookieAuthorization + "=" + mine + "; " + access.CookieAuthorization + "=" + planted, false},
		{"planted beside mine, from a script", access.CookieAuthorization + "=" + planted + "; " + access.CookieAuthorization + "=" + mine, true},
		{"planted for this app beside another app's", access.CookieAuthorization + "=" + planted + "; " + access.CookieAuthorization + "=" + mine + "; " + access.CookieAuthorization + "=" + otherApp, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://app.example.com/notes/new", nil)
			req.Header.Set("Cookie", tt.cookie)
			if tt.xhr {
				req.Header.Set("X-Requested-With", "XMLHttpRequest")
			}
			_, before := origin.last()
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if _, after := origin.last(); after != before {
				t.Fatalf("the request reached the origin with an ambiguous identity")
			}
			want := http.StatusFound
			if tt.xhr {
				want = http.StatusUnauthorized
			}
			if rec.Code != want {
				t.Fatalf("status %d, want %d", rec.Code, want)
			}
			cleared := map[string]bool{}
			for _, c := range rec.Result().Cookies() {
				if c.Name == access.CookieAuthorization && c.MaxAge < 0 {
					cleared[c.Domain] = true
				}
			}
			if !cleared[""] || !cleared["example.com"] {
				t.Errorf("copies not cleared: %v", cleared)
			}
		})
	}
}

// TestCookiesOfTwoAppsOnOneHost: two apps on one host with their own cookie
// paths each send their cookie; the one for this app is not ambiguous.
func TestCookiesOfTwoAppsOnOneHost(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	f := newFixture(t, srv.URL, nil)
	mine := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	other := appToken(t, f.keys, "ann@example.com", audOps, nonceA, testNow, time.Hour)
	req := httptest.NewRequest("GET", "http://app.example.com/x", nil)
	req.Header.Set("Cookie", access.CookieAuthorization+"="+other+"; "+access.CookieAuthorization+"="+mine)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: another app's cookie made the request ambiguous", rec.Code)
	}
}
