package proxy

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestRevokeCancelsInFlight: CloseSessions (what a revocation calls) cancels
// a plain request of the session that is in flight at the origin and
// returns only once the proxy has finished with it; another session's
// request is left alone.
func TestRevokeCancelsInFlight(t *testing.T) {
	var arrived atomic.Int32
	hold := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer origin.Close()
	defer close(hold)
	f := newFixture(t, origin.URL, func(o *Options) { o.Now = time.Now })
	f.addSession(nonceA, time.Now().Add(-time.Minute), time.Hour)
	f.addSession("BBBBBBBBBBBBBBBB", time.Now().Add(-time.Minute), time.Hour)
	mine := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
	other := appToken(t, f.keys, "ann@example.com", audDemo, "BBBBBBBBBBBBBBBB", time.Now(), time.Hour)
	serve := func(raw string) chan int {
		done := make(chan int, 1)
		go func() {
			req := httptest.NewRequest("GET", "http://app.example.com/slow", nil)
			req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			done <- rec.Code
		}()
		return done
	}
	mineDone, otherDone := serve(mine), serve(other)
	for arrived.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.h.CloseSessions(nonceA); n != 1 {
		t.Fatalf("CloseSessions cancelled %d requests, want 1", n)
	}
	// When CloseSessions returns, the proxy is done with the request: only
	// the other session's is still in flight.
	if n := f.h.InFlight(); n != 1 {
		t.Fatalf("%d requests in flight after CloseSessions, want 1 (the other session's)", n)
	}
	select {
	case code := <-mineDone:
		if code == http.StatusOK {
			t.Errorf("the revoked session's request completed with %d", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the cancelled request never ended")
	}
	select {
	case code := <-otherDone:
		t.Fatalf("another session's request was cut: %d", code)
	case <-time.After(50 * time.Millisecond):
	}
}
