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
