package admin

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// fakeAPITokens is an in-memory APITokenAuth.
type fakeAPITokens struct {
	mu      sync.Mutex
	byHash  map[[sha256.Size]byte]access.APIToken
	touches int
	fail    error
}

func (f *fakeAPITokens) add(secret string, t access.APIToken) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byHash == nil {
		f.byHash = map[[sha256.Size]byte]access.APIToken{}
	}
	t.Hash = access.HashAPIToken(secret)
	f.byHash[t.Hash] = t
}

func (f *fakeAPITokens) APITokenByHash(_ context.Context, hash [32]byte) (access.APIToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return access.APIToken{}, f.fail
	}
	t, ok := f.byHash[hash]
	if !ok {
		return access.APIToken{}, ErrNotFound
	}
	return t, nil
}

func (f *fakeAPITokens) TouchAPIToken(_ context.Context, id string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.touches++
	for h, t := range f.byHash {
		if t.ID == id {
			t.LastUsedAt = now
			f.byHash[h] = t
		}
	}
	return nil
}

// countingLimiter allows n failures per key, forever.
type countingLimiter struct {
	n     int
	taken map[string]int
}

func (l *countingLimiter) Allowed(key string, _ time.Time) (bool, time.Duration) {
	return l.taken[key] < l.n, 30 * time.Second
}

func (l *countingLimiter) Take(key string, _ time.Time) (bool, time.Duration) {
	l.taken[key]++
	return l.taken[key] <= l.n, 30 * time.Second
}

func TestAuthenticate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	secret := access.APITokenPrefix + strings.Repeat("1f", 32)
	expired := access.APITokenPrefix + strings.Repeat("2e", 32)
	revoked := access.APITokenPrefix + strings.Repeat("3d", 32)
	store := &fakeAPITokens{}
	store.add(secret, access.APIToken{ID: "t1", Name: "ops", Scopes: []string{access.ScopeRead}})
	store.add(expired, access.APIToken{ID: "t2", Scopes: []string{access.ScopeRead}, ExpiresAt: now})
	store.add(revoked, access.APIToken{ID: "t3", Scopes: []string{access.ScopeRead}, RevokedAt: now.Add(-time.Hour)})
	v := &Authenticator{Tokens: store, Now: func() time.Time { return now }}

	tests := []struct {
		name   string
		header string
		scope  string
		status int // 0: admitted
	}{
		{"valid", "Bearer " + secret, access.ScopeRead, 0},
		{"scheme in any case", "bearer " + secret, access.ScopeRead, 0},
		{"missing scope", "Bearer " + secret, access.ScopeRevoke, http.StatusForbidden},
		{"no header", "", access.ScopeRead, http.StatusUnauthorized},
		{"basic scheme", "Basic " + secret, access.ScopeRead, http.StatusUnauthorized},
		{"unknown token", "Bearer " + access.APITokenPrefix + strings.Repeat("00", 32), access.ScopeRead, http.StatusUnauthorized},
		{"malformed", "Bearer hello", access.ScopeRead, http.StatusUnauthorized},
		{"expired", "Bearer " + expired, access.ScopeRead, http.StatusUnauthorized},
		{"revoked", "Bearer " + revoked, access.ScopeRead, http.StatusUnauthorized},
		{"two headers, the valid one first", "Bearer " + secret + "\nBearer " + revoked, access.ScopeRead, http.StatusUnauthorized},
		{"two headers, the valid one last", "Bearer hello\nBearer " + secret, access.ScopeRead, http.StatusUnauthorized},
		{"two headers, both valid", "Bearer " + secret + "\nBearer " + secret, access.ScopeRead, http.StatusUnauthorized},
		{"two tokens in one header", "Bearer " + secret + ", Bearer " + secret, access.ScopeRead, http.StatusUnauthorized},
		{"no space", "Bearer" + secret, access.ScopeRead, http.StatusUnauthorized},
		{"tab", "Bearer\t" + secret, access.ScopeRead, http.StatusUnauthorized},
		{"scheme only", "Bearer", access.ScopeRead, http.StatusUnauthorized},
		{"token without scheme", secret, access.ScopeRead, http.StatusUnauthorized},
		{"upper-case hex", "Bearer " + strings.ToUpper(secret), access.ScopeRead, http.StatusUnauthorized},
		{"prefix in another case", "Bearer GH_API_" + strings.TrimPrefix(secret, access.APITokenPrefix), access.ScopeRead, http.StatusUnauthorized},
		{"token and trailing junk", "Bearer " + secret + "x", access.ScopeRead, http.StatusUnauthorized},
		{"scim scope asked of a read token", "Bearer " + secret, access.ScopeSCIM, http.StatusForbidden},
		{"service-tokens scope asked of a read token", "Bearer " + secret, access.ScopeServiceTokens, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, access.PathAPI+"users", nil)
			for h := range strings.SplitSeq(tc.header, "\n") {
				if h != "" {
					r.Header.Add("Authorization", h)
				}
			}
			w := httptest.NewRecorder()
			tok, err := v.Authenticate(w, r, tc.scope)
			if tc.status == 0 {
				if err != nil || tok.ID != "t1" {
					t.Fatalf("Authenticate = %+v, %v; want token t1", tok, err)
				}
				return
			}
			var we *web.Error
			if !errors.As(err, &we) || we.Status != tc.status {
				t.Fatalf("Authenticate error %v, want status %d", err, tc.status)
			}
			if tc.status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	if store.touches != 1 {
		t.Fatalf("last use written %d times for two uses within a minute, want 1", store.touches)
	}

	t.Run("store failure is a 500", func(t *testing.T) {
		broken := &fakeAPITokens{fail: errors.New("disk on fire")}
		v := &Authenticator{Tokens: broken, Now: func() time.Time { return now }}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		_, err := v.Authenticate(nil, r, access.ScopeRead)
		var we *web.Error
		if err == nil || errors.As(err, &we) {
			t.Fatalf("store failure gave %v, want a plain error (500)", err)
		}
	})

	t.Run("failures limited per client IP", func(t *testing.T) {
		lim := &countingLimiter{n: 3, taken: map[string]int{}}
		v := &Authenticator{Tokens: store, Failures: lim, Now: func() time.Time { return now }}
		call := func(remote, header string) int {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = remote
			r.Header.Set("Authorization", header)
			w := httptest.NewRecorder()
			_, err := v.Authenticate(w, r, access.ScopeRead)
			var we *web.Error
			if errors.As(err, &we) {
				if we.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "30" {
					t.Fatalf("429 with Retry-After %q", w.Header().Get("Retry-After"))
				}
				return we.Status
			}
			return 200
		}
		for range 3 {
			if got := call("192.0.2.1:1000", "Bearer wrong"); got != http.StatusUnauthorized {
				t.Fatalf("failure within the limit: %d", got)
			}
		}
		if got := call("192.0.2.1:1000", "Bearer "+secret); got != http.StatusTooManyRequests {
			t.Fatalf("past the limit, even the right token: %d, want 429", got)
		}
		if got := call("192.0.2.2:1000", "Bearer "+secret); got != 200 {
			t.Fatalf("another IP: %d, want 200", got)
		}
		// IPv6: one /64 is one client, whichever of its addresses it uses;
		// an IPv4-mapped address is its IPv4 address.
		for i := range 3 {
			if got := call(fmt.Sprintf("[2001:db8:1:2::%x]:1000", i+1), "Bearer wrong"); got != http.StatusUnauthorized {
				t.Fatalf("IPv6 failure within the limit: %d", got)
			}
		}
		if got := call("[2001:db8:1:2:ffff::9]:1000", "Bearer "+secret); got != http.StatusTooManyRequests {
			t.Fatalf("another address of the same /64: %d, want 429", got)
		}
		if got := call("[2001:db8:1:3::1]:1000", "Bearer "+secret); got != 200 {
			t.Fatalf("another /64: %d, want 200", got)
		}
		if got := call("[::ffff:192.0.2.1]:1000", "Bearer "+secret); got != http.StatusTooManyRequests {
			t.Fatalf("192.0.2.1 as an IPv4-mapped address: %d, want 429", got)
		}
	})
}

// TestAuthenticateOnlyTheHeader: a token anywhere but the Authorization
// header (query string, cookie, form, another header) is no credential.
func TestAuthenticateOnlyTheHeader(t *testing.T) {
	secret := access.APITokenPrefix + strings.Repeat("1f", 32)
	store := &fakeAPITokens{}
	store.add(secret, access.APIToken{ID: "t1", Scopes: access.APIScopes})
	v := &Authenticator{Tokens: store}
	for name, set := range map[string]func(r *http.Request){
		"query access_token": func(r *http.Request) { r.URL.RawQuery = "access_token=" + secret },
		"query token":        func(r *http.Request) { r.URL.RawQuery = "token=" + secret },
		"cookie":             func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "access_token", Value: secret}) },
		"admin cookie":       func(r *http.Request) { r.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: secret}) },
		"X-Api-Token":        func(r *http.Request) { r.Header.Set("X-Api-Token", secret) },
		"Proxy-Authorization": func(r *http.Request) {
			r.Header.Set("Proxy-Authorization", "Bearer "+secret)
		},
		"form body": func(r *http.Request) {
			r.Method = http.MethodPost
			r.Body = io.NopCloser(strings.NewReader("access_token=" + secret))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, access.PathAPI+"users", nil)
			set(r)
			_, err := v.Authenticate(httptest.NewRecorder(), r, access.ScopeRead)
			var we *web.Error
			if !errors.As(err, &we) || we.Status != http.StatusUnauthorized {
				t.Fatalf("Authenticate = %v, want 401", err)
			}
		})
	}
}
