package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// liveConn is one authorized request in flight. It lives in the request's
// state (state.go), so tracking a request allocates nothing; only a request
// of a session that goes to an origin through the reverse proxy makes its
// transport hooks (trace).
type liveConn struct {
	nonce    string // identity_nonce of its app token
	aud      string // its app
	longLive bool   // a WebSocket or an event stream
	cancel   context.CancelCauseFunc
	id       uint64
	// done is made by the first close that cancels the request, under the
	// shard's lock, and closed when the request has ended.
	done chan struct{}

	// Where the request stands with the origin (the phase* constants),
	// moved by the origin transport's trace hooks and by a revocation.
	phase atomic.Int32
	mu    sync.Mutex // guards the fields below
	conn  net.Conn   // the origin connection it was given
	// answered is made by the first revocation that waits for the origin's
	// answer, and closed at the origin's first response byte (gotAnswer).
	answered  chan struct{}
	gotAnswer bool
	hooks     httptrace.ClientTrace
}

// Phases of a tracked request with its origin. A revocation cancels a
// request that has not been sent at once (it then never reaches the
// origin); one already sent may be reading at the origin, so the
// revocation waits (up to answerWait) for the origin to start answering
// before it cancels: either way, no request of a revoked session reaches
// the origin after the revocation returned.
const (
	phaseNotSent   int32 = iota // nothing written to the origin yet
	phaseSent                   // the request is on its way to the origin
	phaseAnswered               // the origin started answering
	phaseCancelled              // cancelled before it was sent: never send it
)

// answerWait bounds how long a revocation waits for the origin to start
// answering a request already sent to it.
const answerWait = 250 * time.Millisecond

// trace returns the origin transport hooks that move c's phase, to give its
// origin request (httptrace.WithClientTrace). The request headers are
// written into the transport's buffer before they reach the socket
// (WroteHeaders runs before the flush), so a request cancelled before then
// has its connection closed instead of sent.
func (c *liveConn) trace() *httptrace.ClientTrace {
	c.hooks = httptrace.ClientTrace{
		GotConn:              c.gotConn,
		WroteHeaders:         c.wroteHeaders,
		GotFirstResponseByte: c.gotFirstResponseByte,
	}
	return &c.hooks
}

func (c *liveConn) gotConn(info httptrace.GotConnInfo) {
	c.mu.Lock()
	c.conn = info.Conn
	c.mu.Unlock()
}

func (c *liveConn) wroteHeaders() {
	if c.phase.CompareAndSwap(phaseNotSent, phaseSent) || c.phase.Load() != phaseCancelled {
		return
	}
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close() // the flush fails: nothing reaches the origin
	}
}

func (c *liveConn) gotFirstResponseByte() {
	c.phase.CompareAndSwap(phaseSent, phaseAnswered)
	c.mu.Lock()
	if !c.gotAnswer {
		c.gotAnswer = true
		if c.answered != nil {
			close(c.answered)
		}
	}
	c.mu.Unlock()
}

// answer returns a channel closed once the origin has started answering c.
func (c *liveConn) answer() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered == nil {
		c.answered = make(chan struct{})
		if c.gotAnswer {
			close(c.answered)
		}
	}
	return c.answered
}

// errRevokedInFlight is the cause of a request context a revocation
// cancelled.
var errRevokedInFlight = errors.New("proxy: revoked while in flight")

// liveShards spreads the in-flight requests over several locks.
const liveShards = 16

// closeWait bounds how long a revocation waits for the requests it
// cancelled to end.
const closeWait = 5 * time.Second

// liveConns tracks the authorized requests in flight so that a revocation
// can cancel them before it returns: cancelling the request context makes
// the reverse proxy abandon the origin request (or close both sides of a
// WebSocket), and the revocation waits until each has ended, so that none
// reaches the origin after the revocation returned.
type liveConns struct {
	next   atomic.Uint64
	shards [liveShards]liveShard
}

type liveShard struct {
	mu sync.Mutex
	m  map[uint64]*liveConn
}

// track registers c, the request whose context cancel cancels, under nonce
// and aud. untrack(c) must follow when the request ends.
func (l *liveConns) track(c *liveConn, cancel context.CancelCauseFunc, nonce, aud string, longLive bool) {
	c.nonce, c.aud, c.longLive, c.cancel, c.id = nonce, aud, longLive, cancel, l.next.Add(1)
	sh := &l.shards[c.id%liveShards]
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[uint64]*liveConn)
	}
	sh.m[c.id] = c
	sh.mu.Unlock()
}

// untrack removes c, whose request has ended, and wakes the revocations
// waiting for it.
func (l *liveConns) untrack(c *liveConn) {
	sh := &l.shards[c.id%liveShards]
	sh.mu.Lock()
	delete(sh.m, c.id)
	done := c.done
	sh.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// close cancels every tracked request match selects, waits (up to
// closeWait) until they have ended, and returns how many it cancelled.
func (l *liveConns) close(match func(c *liveConn) bool) int {
	var (
		waits []chan struct{}
		sent  []sentConn
	)
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, c := range sh.m {
			if !match(c) {
				continue
			}
			if c.done == nil {
				c.done = make(chan struct{})
			}
			waits = append(waits, c.done)
			if c.phase.CompareAndSwap(phaseNotSent, phaseCancelled) || c.phase.Load() != phaseSent {
				c.cancel(errRevokedInFlight)
				continue
			}
			sent = append(sent, sentConn{c, c.done})
		}
		sh.mu.Unlock()
	}
	// Requests already on their way: the origin gets them (they were
	// authorized before the revocation); cancel them once it answers, or
	// all that are left once answerWait has passed. Cancelling a request
	// that has ended does nothing.
	if len(sent) > 0 {
		answer := time.NewTimer(answerWait)
		defer answer.Stop()
		waited := false
		for _, s := range sent {
			if !waited {
				select {
				case <-s.c.answer():
				case <-s.done:
				case <-answer.C:
					waited = true
				}
			}
			s.c.cancel(errRevokedInFlight)
		}
	}
	deadline := time.NewTimer(closeWait)
	defer deadline.Stop()
	for _, d := range waits {
		select {
		case <-d:
		case <-deadline.C:
			return len(waits)
		}
	}
	return len(waits)
}

// sentConn is a request a revocation found already sent, and the channel
// closed when it has ended.
type sentConn struct {
	c    *liveConn
	done chan struct{}
}

// CloseSessions cancels the requests in flight of the global sessions with
// the given nonces (WebSockets and event streams included), waits until they
// have ended, and returns how many it cancelled.
func (h *Handler) CloseSessions(nonces ...string) int {
	if len(nonces) == 0 {
		return 0
	}
	set := make(map[string]struct{}, len(nonces))
	for _, n := range nonces {
		set[n] = struct{}{}
	}
	n := h.live.close(func(c *liveConn) bool { _, ok := set[c.nonce]; return ok })
	if n > 0 {
		h.log.Info("proxy: cancelled requests of revoked sessions", "count", n)
	}
	return n
}

// CloseApp cancels the requests in flight to the app with audience aud and
// waits until they have ended; with longLivedOnly (a soft revocation, whose
// tokens are re-issued silently) only its WebSockets and event streams. It
// returns how many it cancelled.
func (h *Handler) CloseApp(aud string, longLivedOnly bool) int {
	n := h.live.close(func(c *liveConn) bool {
		return c.nonce != "" && c.aud == aud && (c.longLive || !longLivedOnly) // bypassed requests carry no token
	})
	if n > 0 {
		h.log.Info("proxy: cancelled requests of a revoked app", "aud", aud, "count", n)
	}
	return n
}

// longLived reports whether r opens a WebSocket or asks for an event
// stream.
func longLived(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// CloseLongLived cancels every WebSocket and event stream in flight (at the
// start of a shutdown, so that they do not hold it up) and returns how many.
// It does not wait for them.
func (h *Handler) CloseLongLived() int {
	n := 0
	for i := range h.live.shards {
		sh := &h.live.shards[i]
		sh.mu.Lock()
		for _, c := range sh.m {
			if c.longLive {
				c.cancel(errShuttingDown)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// InFlight returns how many authorized requests are in flight.
func (h *Handler) InFlight() int {
	n := 0
	for i := range h.live.shards {
		sh := &h.live.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// errShuttingDown is the cause of a long-lived request cancelled by a
// shutdown.
var errShuttingDown = errors.New("proxy: shutting down")

// CloseRevoked cancels, and waits for, the requests in flight that
// revocation r refuses: those of the sessions it ended, or every request
// to a hard-revoked app (only the WebSockets and event streams of a soft
// one), so that none reaches an origin after the revocation returns. It is
// the revocation engine's subscriber.
func (h *Handler) CloseRevoked(r access.Revocation) {
	switch r.Kind {
	case access.RevocationSession, access.RevocationUser:
		h.CloseSessions(r.Nonces...)
	case access.RevocationApp:
		h.CloseApp(r.Subject, false)
	case access.RevocationAppSoft:
		h.CloseApp(r.Subject, true)
	}
}
