package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
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

// TestRevokeWaitsForSentRequests: a revocation cancels a request not yet
// sent at once, and the transport hook then refuses to send it (its origin
// connection is closed before the flush); a request already sent is
// cancelled only once the origin starts answering (or answerWait passed),
// so that the origin never receives it after the revocation returned.
func TestRevokeWaitsForSentRequests(t *testing.T) {
	var l liveConns
	track := func() (*httptrace.ClientTrace, func(), context.Context) {
		ctx, cancel := context.WithCancelCause(context.Background())
		c := new(liveConn)
		l.track(c, cancel, nonceA, audDemo, false)
		return c.trace(), func() { l.untrack(c) }, ctx
	}

	t.Run("not sent: cancelled, never sent", func(t *testing.T) {
		tr, end, ctx := track()
		client, server := net.Pipe()
		defer server.Close()
		go io.Copy(io.Discard, server) // an origin that reads whatever it is sent
		tr.GotConn(httptrace.GotConnInfo{Conn: client})
		go func() { <-ctx.Done(); end() }()
		if n := l.close(func(*liveConn) bool { return true }); n != 1 {
			t.Fatalf("close cancelled %d, want 1", n)
		}
		if context.Cause(ctx) != errRevokedInFlight {
			t.Fatalf("cause %v", context.Cause(ctx))
		}
		tr.WroteHeaders() // the transport reaches the flush only now
		if _, err := client.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err == nil {
			t.Fatal("the origin connection still takes the request after the revocation")
		}
	})

	t.Run("sent: cancelled once the origin answers", func(t *testing.T) {
		tr, end, ctx := track()
		tr.WroteHeaders()
		go func() { <-ctx.Done(); end() }()
		answered := make(chan time.Time, 1)
		go func() {
			time.Sleep(50 * time.Millisecond)
			answered <- time.Now()
			tr.GotFirstResponseByte()
		}()
		start := time.Now()
		l.close(func(*liveConn) bool { return true })
		took := time.Since(start)
		at := <-answered
		if time.Since(at) < 0 || took < 40*time.Millisecond || took >= answerWait {
			t.Fatalf("close returned after %v; want after the origin answered (50 ms), before answerWait", took)
		}
	})

	t.Run("sent to a silent origin: cancelled after answerWait", func(t *testing.T) {
		tr, end, ctx := track()
		tr.WroteHeaders()
		go func() { <-ctx.Done(); end() }()
		start := time.Now()
		l.close(func(*liveConn) bool { return true })
		if took := time.Since(start); took < answerWait || took > answerWait+time.Second {
			t.Fatalf("close took %v, want about answerWait (%v)", took, answerWait)
		}
	})
}

// TestRevokeWaitsOnceForSilentOrigins: several requests already sent to
// origins that never answer are all cancelled once answerWait has passed,
// not one answerWait after the other (nor never).
func TestRevokeWaitsOnceForSilentOrigins(t *testing.T) {
	var l liveConns
	for range 3 {
		ctx, cancel := context.WithCancelCause(context.Background())
		c := new(liveConn)
		l.track(c, cancel, nonceA, audDemo, false)
		c.trace().WroteHeaders()
		go func() { <-ctx.Done(); l.untrack(c) }()
	}
	start := time.Now()
	if n := l.close(func(*liveConn) bool { return true }); n != 3 {
		t.Fatalf("close cancelled %d, want 3", n)
	}
	if took := time.Since(start); took < answerWait || took > answerWait+time.Second {
		t.Fatalf("close took %v, want about one answerWait (%v)", took, answerWait)
	}
}

// TestProxiedRequestCarriesTraceHooks: the request the reverse proxy sends
// to the origin carries the session's transport hooks, so a revocation
// finds a request held at the origin already sent and waits (answerWait)
// for the origin before cancelling it; a bypassed request carries none.
func TestProxiedRequestCarriesTraceHooks(t *testing.T) {
	arrived := make(chan struct{}, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer origin.Close()
	f := newFixture(t, origin.URL, func(o *Options) { o.Now = time.Now })
	f.addSession(nonceA, time.Now().Add(-time.Minute), time.Hour)
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
	done := make(chan int, 1)
	go func() {
		req := httptest.NewRequest("GET", "http://app.example.com/slow", nil)
		req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		done <- rec.Code
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the origin")
	}
	start := time.Now()
	if n := f.h.CloseSessions(nonceA); n != 1 {
		t.Fatalf("CloseSessions cancelled %d, want 1", n)
	}
	if took := time.Since(start); took < answerWait {
		t.Fatalf("CloseSessions returned after %v: it did not see the request as sent (no trace hooks on the origin request)", took)
	}
	if code := <-done; code != http.StatusUnauthorized {
		t.Fatalf("the revoked request ended with %d, want 401", code)
	}
}
