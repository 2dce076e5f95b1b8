package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// addSession stores an active global session with nonce created at created.
func (f *fixture) addSession(nonce string, created time.Time, ttl time.Duration) {
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	f.store.sessions[nonce] = access.Session{
		Nonce:     nonce,
		Identity:  access.Identity{UserID: "u-1", Email: "ann@example.com", IdP: access.IdP{ID: "pin", Type: "onetimepin"}},
		CreatedAt: created,
		ExpiresAt: created.Add(ttl),
	}
}

func TestSilentRefresh(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	now := testNow
	clock := func() time.Time { return now }
	blocked := []access.Policy{{Name: "nobody", Decision: access.Allow, Include: []access.Rule{{Emails: []string{"zed@example.com"}}}}}

	tests := []struct {
		name    string
		setup   func(f *fixture)
		raw     func(f *fixture) string
		want    int
		refresh bool
	}{
		{
			name:  "expired token, active session",
			setup: func(f *fixture) { f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour) },
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), 2*time.Second)
			},
			want: http.StatusOK, refresh: true,
		},
		{
			name: "soft-revoked token, active session",
			setup: func(f *fixture) {
				f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour)
				f.store.revokeApp(audDemo, true, testNow.Add(-time.Second))
			},
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-time.Minute), time.Hour)
			},
			want: http.StatusOK, refresh: true,
		},
		{
			name: "hard-revoked token, session older than the revocation",
			setup: func(f *fixture) {
				f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour)
				f.store.revokeApp(audDemo, false, testNow.Add(-time.Second))
			},
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-time.Minute), time.Hour)
			},
			want: http.StatusUnauthorized,
		},
		{
			name:  "expired token, global session ended",
			setup: func(f *fixture) { f.addSession(nonceA, testNow.Add(-time.Hour), 30*time.Minute) },
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), time.Second)
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "expired token, session revoked",
			setup: func(f *fixture) {
				f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour)
				f.store.RevokeSession(t.Context(), nonceA, "", testNow)
			},
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), time.Second)
			},
			want: http.StatusUnauthorized,
		},
		{
			name:  "expired token, unknown session",
			setup: func(f *fixture) { delete(f.store.sessions, nonceA) },
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), time.Second)
			},
			want: http.StatusUnauthorized,
		},
		{
			name:  "expired token of another app",
			setup: func(f *fixture) { f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour) },
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audOps, nonceA, testNow.Add(-10*time.Minute), time.Second)
			},
			want: http.StatusUnauthorized,
		},
		{
			name:  "tampered expired token",
			setup: func(f *fixture) { f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour) },
			raw: func(f *fixture) string {
				raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), time.Second)
				return raw[:len(raw)-4] + "AAAA"
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "sign-in method no longer allowed by the app",
			setup: func(f *fixture) {
				f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour)
				f.h.o.Apps().Apps()[0].IdPs = []string{"corp-sso"}
			},
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), 2*time.Second)
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "identity no longer allowed",
			setup: func(f *fixture) {
				f.addSession(nonceA, testNow.Add(-time.Hour), 24*time.Hour)
				f.h.o.Apps().Apps()[0].Policies = blocked
			},
			raw: func(f *fixture) string {
				return appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), time.Second)
			},
			want: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, srv.URL, func(o *Options) { o.Now = clock })
			tt.setup(f)
			raw := tt.raw(f)
			req := httptest.NewRequest("GET", "http://app.example.com/api/data", nil)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Sec-Fetch-Mode", "cors")
			req.Header.Set("Cookie", "theme=dark; "+access.CookieAuthorization+"="+raw)
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			resp := rec.Result()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			c := cookieFrom(resp, access.CookieAuthorization)
			if !tt.refresh {
				if c != nil {
					t.Fatalf("refused request set a new app token: %+v", c)
				}
				return
			}
			if c == nil || c.Value == raw || !c.HttpOnly || c.Path != "/" || c.MaxAge <= 0 {
				t.Fatalf("refreshed cookie = %+v", c)
			}
			claims, err := f.keys.Verify(c.Value, audDemo, token.TypeApp, now)
			if err != nil || claims.IdentityNonce != nonceA || claims.Email != "ann@example.com" {
				t.Fatalf("refreshed token: %+v, %v", claims, err)
			}
			if hard, soft := f.store.AppRevocation(audDemo).Refuses(claims.IssuedAt); hard || soft {
				t.Fatal("refreshed token is itself revoked")
			}
			got, _ := origin.last()
			if got.Header.Get(access.HeaderJWTAssertion) != c.Value || !strings.Contains(got.Header.Get("Cookie"), c.Value) ||
				!strings.Contains(got.Header.Get("Cookie"), "theme=dark") {
				t.Errorf("origin did not get the fresh token: %v", got.Header)
			}
		})
	}
}

func TestReplaceCookie(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, "CF_Authorization=new"},
		{"replace", []string{"a=1; CF_Authorization=old; b=2"}, "a=1; b=2; CF_Authorization=new"},
		{"several lines", []string{"a=1", "CF_Authorization=old"}, "a=1; CF_Authorization=new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": tt.in}
			replaceCookie(h, access.CookieAuthorization, "new")
			if got := h.Get("Cookie"); got != tt.want {
				t.Errorf("Cookie = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRefreshMemo sends a burst of requests with one expired token: they
// share one refreshed token whose cookie lives until the global session
// ends, and a revocation or policy change still holds at the next request.
func TestRefreshMemo(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	now := testNow
	f := newFixture(t, srv.URL, func(o *Options) { o.Now = func() time.Time { return now } })
	f.addSession(nonceA, testNow.Add(-time.Hour), 3*time.Hour) // ends at testNow+2h
	expired := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow.Add(-10*time.Minute), time.Minute)
	get := func() *http.Response {
		req := httptest.NewRequest("GET", "http://app.example.com/api", nil)
		req.Header.Set("Accept", "application/json")
		req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: expired})
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec.Result()
	}
	var first string
	for i := range 5 {
		resp := get()
		c := cookieFrom(resp, access.CookieAuthorization)
		if resp.StatusCode != http.StatusOK || c == nil {
			t.Fatalf("request %d: status %d cookie %+v", i, resp.StatusCode, c)
		}
		if c.MaxAge != int((2 * time.Hour).Seconds()) {
			t.Errorf("cookie Max-Age %d, want the global session's remaining %d", c.MaxAge, int((2 * time.Hour).Seconds()))
		}
		if i == 0 {
			first = c.Value
		} else if c.Value != first {
			t.Fatalf("request %d minted another token instead of reusing the refreshed one", i)
		}
	}
	if _, n := origin.last(); n != 5 {
		t.Fatalf("origin reached %d times, want 5", n)
	}
	t.Run("policy change", func(t *testing.T) {
		saved := f.h.o.Apps().Apps()[0].Policies
		defer func() { f.h.o.Apps().Apps()[0].Policies = saved }()
		f.h.o.Apps().Apps()[0].Policies = []access.Policy{{Name: "bob", Decision: access.Allow,
			Include: []access.Rule{{Emails: []string{"bob@example.com"}}}}}
		if resp := get(); resp.StatusCode == http.StatusOK {
			t.Fatalf("memoised refresh let a user through a policy that no longer admits her")
		}
	})
	t.Run("app revoked", func(t *testing.T) {
		now = now.Add(time.Second)
		f.store.mu.Lock()
		f.store.appHard[audDemo] = now.Add(-100 * time.Millisecond)
		f.store.mu.Unlock()
		if resp := get(); resp.StatusCode == http.StatusOK {
			t.Fatalf("memoised refresh survived a hard revocation of the app")
		}
	})
	t.Run("session revoked", func(t *testing.T) {
		f.store.mu.Lock()
		f.store.appHard = map[string]time.Time{}
		f.store.revoked[nonceA] = true
		f.store.mu.Unlock()
		if resp := get(); resp.StatusCode == http.StatusOK {
			t.Fatalf("memoised refresh survived the session's revocation")
		}
	})
}
