package app

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/proxy"
	"github.com/gatehouse-dev/gatehouse/store"
)

// revocationPoll is how often a serving Gatehouse picks up revocations
// written by other processes (such as `gatehouse revoke`).
const revocationPoll = 250 * time.Millisecond

// closeRevoked cancels, and waits for, the requests in flight that a
// revocation refuses: those of the sessions it ended, or every request to
// a hard-revoked app (only the WebSockets and event streams of a soft one),
// so that none reaches an origin after the revocation returns.
func closeRevoked(p *proxy.Handler, r store.Revocation) {
	switch r.Kind {
	case store.RevocationSession, store.RevocationUser:
		p.CloseSessions(r.Nonces...)
	case store.RevocationApp:
		p.CloseApp(r.Subject, false)
	case store.RevocationAppSoft:
		p.CloseApp(r.Subject, true)
	}
}

// watchRevocations starts, once per App, the watcher that applies the
// revocations of other processes, and returns the function that stops it
// (a no-op for callers that did not start it).
func (a *App) watchRevocations(ctx context.Context) (stop func()) {
	if !a.watching.CompareAndSwap(false, true) {
		return func() {}
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.db.WatchRevocations(wctx, revocationPoll)
	}()
	return func() {
		cancel()
		<-done
		a.watching.Store(false)
	}
}
