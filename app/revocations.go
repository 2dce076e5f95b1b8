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

// closeRevoked closes the long-lived connections a revocation affects: the
// sessions it ended, or every connection to a revoked app.
func closeRevoked(p *proxy.Handler, r store.Revocation) {
	switch r.Kind {
	case store.RevocationSession, store.RevocationUser:
		p.CloseSessions(r.Nonces...)
	case store.RevocationApp, store.RevocationAppSoft:
		p.CloseApp(r.Subject)
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
