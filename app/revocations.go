package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/cluster"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
)

// revocationPoll is how often a serving Gatehouse picks up revocations and
// service-token changes written by other processes (such as `gatehouse
// revoke`) and other nodes when no notification wakes it, and writes its
// heartbeat (package cluster).
const revocationPoll = cluster.DefaultPoll

// revokingStore is the store with the revocation engine in front, as the
// handlers see it: the per-request checks are answered by the engine, and a
// revocation is written to the store, applied to the engine (enforced, and
// the subscribers told) and acknowledged by every other live node on the
// store before the call returns. A revoke that some node did not
// acknowledge within the ack timeout returns an
// *access.UnacknowledgedError naming them when report is set (the admin
// page and API show it); otherwise (sign-outs, SCIM) it is logged and the
// revoke succeeds: it is in force here, and those nodes refuse every
// request by then.
type revokingStore struct {
	*store.DB
	rev    *revocation.Engine
	node   *cluster.Node
	log    *slog.Logger
	report bool
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
	return s.enforce(ctx, r)
}

// RevokeUser revokes every session of the user with email and returns how
// many it ended.
func (s revokingStore) RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error) {
	r, err := s.DB.RevokeUser(ctx, email, by, now)
	if err != nil {
		return 0, err
	}
	return len(r.Nonces), s.enforce(ctx, r)
}

// RevokeApp revokes the tokens of the app with audience aud.
func (s revokingStore) RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) error {
	r, err := s.DB.RevokeApp(ctx, app, aud, soft, by, now)
	if err != nil {
		return err
	}
	return s.enforce(ctx, r)
}

// enforce applies r, just written, here and waits for the other nodes to
// acknowledge it.
func (s revokingStore) enforce(ctx context.Context, r access.Revocation) error {
	s.rev.Apply(r)
	err := s.node.Await(ctx, r.ID)
	if err == nil {
		return nil
	}
	if nodes := access.Unacknowledged(err); nodes != nil && !s.report {
		s.log.Warn("revocation in force here but not acknowledged by every node; they refuse requests until back in sync",
			"revocation", r.ID, "kind", r.Kind, "nodes", nodes)
		return nil
	}
	return err
}

// revoking returns the store as the sign-in, proxy and SCIM handlers see
// it; adminRevoking as the admin page and API see it (unacknowledged
// revokes are reported).
func (a *App) revoking() revokingStore {
	return revokingStore{DB: a.db, rev: a.rev, node: a.node, log: a.log}
}

func (a *App) adminRevoking() revokingStore {
	return revokingStore{DB: a.db, rev: a.rev, node: a.node, log: a.log, report: true}
}

// watchRevocations starts, once per App, the node's sync with the store:
// it registers the node, applies the revocations and service-token changes
// of other processes and nodes every revocationPoll (and at once when
// PostgreSQL notifies one), writes the heartbeats that acknowledge them,
// wakes the revokes waiting for other nodes' heartbeats, and on PostgreSQL
// takes up at once a signing key another node added. It returns the
// function that stops it and removes the node from the registry (a no-op
// for callers that did not start it).
func (a *App) watchRevocations(ctx context.Context) (stop func()) {
	if !a.watching.CompareAndSwap(false, true) {
		return func() {}
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 4)
	go func() {
		defer func() { done <- struct{}{} }()
		// The first sync waits for the revocation engine's start-up load,
		// which must not hold up serving (the checks wait for it anyway).
		if err := a.node.Start(wctx); err != nil && wctx.Err() == nil {
			a.log.Warn("register in the node registry", "err", err)
		}
		if n, err := a.db.PruneNodes(wctx, time.Now().Add(-nodePruneAfter)); err != nil && wctx.Err() == nil {
			a.log.Warn("prune the node registry", "err", err)
		} else if n > 0 {
			a.log.Info("pruned nodes that stopped without leaving the registry", "nodes", n)
		}
		a.node.Run(wctx)
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		if err := a.db.Listen(wctx, store.ChannelRevocations, func(string) { a.node.Kick() }); err != nil {
			a.log.Warn("listen for revocations; polling", "err", err)
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		if err := a.db.Listen(wctx, store.ChannelAcks, func(string) { a.node.Acked() }); err != nil {
			a.log.Warn("listen for acknowledgements; polling", "err", err)
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		// A key another node or the command line added signs here at
		// once, not at the next key poll.
		err := a.db.Listen(wctx, store.ChannelKeys, func(string) {
			if err := a.keys.Refresh(wctx); err != nil && wctx.Err() == nil {
				a.log.Warn("refresh the signing keys", "err", err)
			}
		})
		if err != nil {
			a.log.Warn("listen for signing keys; polling", "err", err)
		}
	}()
	return func() {
		cancel()
		for range 4 {
			<-done
		}
		a.watching.Store(false)
	}
}

// nodePruneAfter is how long the row of a node that died without leaving
// the registry is kept (it is not waited for once past the live window).
const nodePruneAfter = time.Hour

// syncStore is the node's sync (cluster.Options.Sync): apply what others
// wrote and return the revocation log's watermark.
func (a *App) syncStore(ctx context.Context) (int64, error) {
	err := a.applyOthers(ctx)
	return a.rev.Watermark(), err
}

// storeUnavailable is the fail-closed check of the handlers: while the
// node syncs with the store (it serves), a sync older than the stale window
// refuses every credentialed request. An App that does not serve (tests of
// its handler) has no sync to be out of.
func (a *App) storeUnavailable() error {
	if !a.watching.Load() {
		return nil
	}
	return a.node.Unavailable()
}

// applyOthers applies what other processes (the command line) wrote: the
// revocations, then the service-token changes, each even when the other
// fails. The node's sync and the acknowledgement socket both call it.
func (a *App) applyOthers(ctx context.Context) error {
	return errors.Join(a.rev.Poll(ctx), a.db.PollServiceTokens(ctx))
}
