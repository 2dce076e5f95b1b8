package app

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
)

// revocationPoll is how often a serving Gatehouse picks up revocations and
// service-token changes written by other processes (such as `gatehouse
// revoke`).
const revocationPoll = 250 * time.Millisecond

// revokingStore is the store with the revocation engine in front, as the
// handlers see it: the per-request checks are answered by the engine, and a
// revocation is written to the store and then applied to the engine, so that
// it is enforced (and the subscribers told) before the call returns.
type revokingStore struct {
	*store.DB
	rev *revocation.Engine
}

// SessionRevoked reports, in O(1) from memory, whether the session is revoked.
func (s revokingStore) SessionRevoked(nonce string) bool { return s.rev.SessionRevoked(nonce) }

// AppRevocation returns, in O(1) from memory, the app's latest revocations.
func (s revokingStore) AppRevocation(aud string) access.AppRevocation {
	return s.rev.AppRevocation(aud)
}

// RevokeSession revokes the session with nonce on behalf of by.
func (s revokingStore) RevokeSession(ctx context.Context, nonce, by string, now time.Time) error {
	r, err := s.DB.RevokeSession(ctx, nonce, by, now)
	if err != nil {
		return err
	}
	s.rev.Apply(r)
	return nil
}

// RevokeUser revokes every session of the user with email and returns how
// many it ended.
func (s revokingStore) RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error) {
	r, err := s.DB.RevokeUser(ctx, email, by, now)
	if err != nil {
		return 0, err
	}
	s.rev.Apply(r)
	return len(r.Nonces), nil
}

// RevokeApp revokes the tokens of the app with audience aud.
func (s revokingStore) RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) error {
	r, err := s.DB.RevokeApp(ctx, app, aud, soft, by, now)
	if err != nil {
		return err
	}
	s.rev.Apply(r)
	return nil
}

// revoking returns the store as the handlers see it.
func (a *App) revoking() revokingStore { return revokingStore{a.db, a.rev} }

// watchRevocations starts, once per App, the watcher that applies the
// revocations and service-token changes of other processes every
// revocationPoll, and returns the function that stops it (a no-op for
// callers that did not start it).
func (a *App) watchRevocations(ctx context.Context) (stop func()) {
	if !a.watching.CompareAndSwap(false, true) {
		return func() {}
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(revocationPoll)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
				if err := a.applyOthers(wctx); err != nil && wctx.Err() == nil {
					a.log.Warn("apply the changes of other processes", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		a.watching.Store(false)
	}
}

// applyOthers applies what other processes (the command line) wrote: the
// revocations, then the service-token changes, each even when the other
// fails. The poll and the acknowledgement socket both call it.
func (a *App) applyOthers(ctx context.Context) error {
	return errors.Join(a.rev.Poll(ctx), a.db.PollServiceTokens(ctx))
}
