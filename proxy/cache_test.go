package proxy

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

func TestVerifiedCacheHonoursExpiryAndRotation(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	var now atomic.Int64
	now.Store(testNow.Unix())
	var keys atomic.Pointer[token.Keyring]
	f := newFixture(t, srv.URL, func(o *Options) {
		o.Now = func() time.Time { return time.Unix(now.Load(), 0) }
		o.Keys = func() *token.Keyring { return keys.Load() }
	})
	keys.Store(f.keys)
	f.addSession(nonceA, testNow, 10*time.Minute) // ends with the token: no refresh
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, 10*time.Minute)

	status := func() int {
		req := httptest.NewRequest("GET", "http://app.example.com/", nil)
		req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec.Code
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
		want int
	}{
		{name: "first use verifies", do: func(*testing.T) {}, want: http.StatusOK},
		{name: "cached use", do: func(*testing.T) {}, want: http.StatusOK},
		{name: "expired while cached", do: func(*testing.T) { now.Add(int64((12 * time.Minute).Seconds())) }, want: http.StatusFound},
		{name: "valid again at an earlier clock", do: func(*testing.T) { now.Store(testNow.Unix()) }, want: http.StatusOK},
		{name: "keyring without the signing key", do: func(t *testing.T) {
			other, err := token.NewKey(testNow)
			if err != nil {
				t.Fatal(err)
			}
			kr, err := token.NewKeyring(teamURL, []token.Key{other})
			if err != nil {
				t.Fatal(err)
			}
			keys.Store(kr)
		}, want: http.StatusFound},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do(t)
			if got := status(); got != st.want {
				t.Fatalf("status %d, want %d", got, st.want)
			}
		})
	}
}
