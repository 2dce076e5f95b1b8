package proxy

import (
	"context"
	"net/http"
	"strings"
	"sync"
)

// liveConn is one long-lived proxied request (WebSocket or event stream).
type liveConn struct {
	nonce  string // identity_nonce of its app token
	aud    string // its app
	cancel context.CancelFunc
}

// liveConns tracks the long-lived requests in flight so that a revocation
// can close them: cancelling the request context makes the reverse proxy
// close both sides.
type liveConns struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]liveConn
}

// track registers r under nonce and aud and returns it with a cancellable
// context, plus the function to call when it ends.
func (l *liveConns) track(r *http.Request, nonce, aud string) (*http.Request, func()) {
	ctx, cancel := context.WithCancel(r.Context())
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[uint64]liveConn)
	}
	l.next++
	id := l.next
	l.m[id] = liveConn{nonce: nonce, aud: aud, cancel: cancel}
	l.mu.Unlock()
	return r.WithContext(ctx), func() {
		l.mu.Lock()
		delete(l.m, id)
		l.mu.Unlock()
		cancel()
	}
}

// close cancels every tracked request match selects and returns how many.
func (l *liveConns) close(match func(c liveConn) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, c := range l.m {
		if match(c) {
			c.cancel()
			delete(l.m, id)
			n++
		}
	}
	return n
}

// CloseSessions closes the open WebSocket and event-stream connections of
// the global sessions with the given nonces, and returns how many it closed.
func (h *Handler) CloseSessions(nonces ...string) int {
	if len(nonces) == 0 {
		return 0
	}
	set := make(map[string]struct{}, len(nonces))
	for _, n := range nonces {
		set[n] = struct{}{}
	}
	n := h.live.close(func(c liveConn) bool { _, ok := set[c.nonce]; return ok })
	if n > 0 {
		h.log.Info("proxy: closed connections of revoked sessions", "count", n)
	}
	return n
}

// CloseApp closes the open WebSocket and event-stream connections to the
// app with audience aud, and returns how many it closed.
func (h *Handler) CloseApp(aud string) int {
	n := h.live.close(func(c liveConn) bool { return c.aud == aud })
	if n > 0 {
		h.log.Info("proxy: closed connections of a revoked app", "aud", aud, "count", n)
	}
	return n
}

// longLived reports whether r opens a WebSocket or asks for an event
// stream: the requests revocation must be able to cut short.
func longLived(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}
