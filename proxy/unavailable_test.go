package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestUnavailableFailsClosed: while the node is out of sync with the
// session store, a valid app token is refused with the one error shape (503,
// "session store unreachable") and nothing reaches the origin; bypass apps
// still serve; once in sync again the token works.
func TestUnavailableFailsClosed(t *testing.T) {
	var origin recorded
	srv := httptest.NewServer(http.HandlerFunc(origin.handler))
	defer srv.Close()
	var cutOff atomic.Bool
	f := newFixture(t, srv.URL, func(o *Options) {
		o.Unavailable = func() error {
			if cutOff.Load() {
				return access.ErrStoreUnreachable
			}
			return nil
		}
	})
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)
	steps := []struct {
		name   string
		cut    bool
		host   string
		json   bool
		status int
		origin bool
	}{
		{"in sync", false, "app.example.com", false, http.StatusOK, true},
		{"cut off: refused as JSON", true, "app.example.com", true, http.StatusServiceUnavailable, false},
		{"cut off: refused as a page", true, "app.example.com", false, http.StatusServiceUnavailable, false},
		{"cut off: bypass app serves", true, "public.example.com", false, http.StatusOK, true},
		{"cut off: forward auth refused", true, "app.example.com" + access.PathForwardAuth, true, http.StatusServiceUnavailable, false},
		{"cut off: get-identity refused", true, "app.example.com" + access.PathGetIdentity, true, http.StatusServiceUnavailable, false},
		{"back in sync", false, "app.example.com", false, http.StatusOK, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			cutOff.Store(st.cut)
			_, before := origin.last()
			rec := httptest.NewRecorder()
			target := "http://" + st.host
			if !strings.Contains(st.host, "/") {
				target += "/page"
			}
			req := httptest.NewRequest("GET", target, nil)
			req.Header.Set("Cookie", "CF_Authorization="+raw)
			if st.json {
				req.Header.Set("Accept", "application/json")
			}
			f.h.ServeHTTP(rec, req)
			if rec.Code != st.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, st.status, rec.Body.String())
			}
			if _, after := origin.last(); (after > before) != st.origin {
				t.Fatalf("origin reached: %v, want %v", after > before, st.origin)
			}
			if st.status != http.StatusServiceUnavailable {
				return
			}
			if st.json {
				var body struct {
					Error  string `json:"error"`
					Status int    `json:"status"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != MsgStoreUnreachable || body.Status != 503 {
					t.Fatalf("body %q (%v)", rec.Body.String(), err)
				}
			} else if !strings.Contains(rec.Body.String(), MsgStoreUnreachable) {
				t.Fatalf("page %q lacks %q", rec.Body.String(), MsgStoreUnreachable)
			}
		})
	}
}
