// Package cluster keeps a serving Gatehouse in step with the other nodes
// that share its store (one SQLite file between processes, one PostgreSQL
// database between machines), so that a revoke holds on every node the
// moment it returns:
//
//   - Node registers the node in the store's node registry, syncs with the
//     store (applies the revocation log, through Options.Sync) every poll
//     and writes a heartbeat with its watermark, the newest log entry it has
//     applied, at least every second and at once when the watermark moves;
//     it removes its row on a clean stop.
//   - Await, after a revoke, waits until every other live node's watermark
//     has reached the revocation's log ID, for at most the ack timeout, and
//     names the nodes that did not acknowledge.
//   - Unavailable fails closed: a node whose last sync is older than the
//     stale window refuses every request it would authorize, because it may
//     have missed a revocation made on another node.
//
// The timings fit together so that a revoke that gives up on a node is
// still enforced there. A node is live while its last heartbeat is younger
// than the live window, StaleAfter plus one heartbeat interval; a node that
// is no longer live has therefore been refusing for at least a heartbeat.
// AckTimeout is longer than StaleAfter: a live node that has not
// acknowledged by then has not synced since before the revoke was
// written, so it has passed its stale window and refuses every request. A
// heartbeat carries the moment its sync started reading the log, and node
// clocks are assumed in step (as token expiry already requires) to within
// the heartbeat interval.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Default timings. The [store] table's stale_after and ack_timeout
// override StaleAfter and AckTimeout.
const (
	// DefaultPoll is how often a node syncs with the store when no
	// notification wakes it: the fallback of SQLite and of a PostgreSQL
	// node that lost its listening connection.
	DefaultPoll = 250 * time.Millisecond
	// DefaultHeartbeat is the longest time between two heartbeats.
	DefaultHeartbeat = time.Second
	// DefaultStaleAfter is how long a node goes on authorizing requests
	// after its last successful sync: ten missed heartbeats, which rides
	// out a PostgreSQL restart or a brief network cut without refusing
	// anyone, while a revoke that gives up waiting is enforced by then.
	DefaultStaleAfter = 10 * time.Second
	// DefaultAckTimeout bounds a revoke's wait for the other nodes; longer
	// than DefaultStaleAfter (see the package comment).
	DefaultAckTimeout = 15 * time.Second
	// ackRecheck is how often a waiting revoke reads the registry again
	// when no acknowledgement notification wakes it.
	ackRecheck = 50 * time.Millisecond
)

// Registry is the store's node registry (store.DB implements it).
type Registry interface {
	// Heartbeat records the node's sync at n.HeartbeatAt with watermark
	// n.Watermark (never going back), registering the node when its row is
	// missing.
	Heartbeat(ctx context.Context, n access.Node) error
	// RemoveNode deletes the node's row.
	RemoveNode(ctx context.Context, id string) error
	// Nodes returns the nodes whose heartbeat is at or after since.
	Nodes(ctx context.Context, since time.Time) ([]access.Node, error)
}

// Timing is the timing of the nodes on a store; zero fields take the
// defaults.
type Timing struct {
	Poll       time.Duration // DefaultPoll
	Heartbeat  time.Duration // DefaultHeartbeat
	StaleAfter time.Duration // DefaultStaleAfter
	AckTimeout time.Duration // DefaultAckTimeout
}

// withDefaults fills the zero fields.
func (t Timing) withDefaults() Timing {
	if t.Poll <= 0 {
		t.Poll = DefaultPoll
	}
	if t.Heartbeat <= 0 {
		t.Heartbeat = DefaultHeartbeat
	}
	if t.StaleAfter <= 0 {
		t.StaleAfter = DefaultStaleAfter
	}
	if t.AckTimeout <= 0 {
		t.AckTimeout = DefaultAckTimeout
	}
	return t
}

// LiveWindow is how recent a node's heartbeat must be for the node to be
// waited for: StaleAfter plus one heartbeat interval.
func (t Timing) LiveWindow() time.Duration {
	t = t.withDefaults()
	return t.StaleAfter + t.Heartbeat
}

// Options configure a Node.
type Options struct {
	// Name names the node in the registry and in the answers of revokes it
	// did not acknowledge; "" for host:pid.
	Name     string
	Registry Registry
	// Sync applies what the store holds that this node has not applied yet
	// (the revocation log, the service tokens) and returns the watermark:
	// the ID of the newest revocation-log entry now enforced here.
	Sync   func(ctx context.Context) (watermark int64, err error)
	Timing Timing
	Log    *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

// Node is this serving Gatehouse in the node registry.
type Node struct {
	o    Options
	self access.Node

	syncMu   sync.Mutex // serializes sync
	lastBeat time.Time  // start of the sync of the last heartbeat written
	lastMark int64      // the watermark it carried
	beaten   bool       // a heartbeat has been written

	lastSync atomic.Int64 // Unix ns of the start of the last full sync (poll and heartbeat)
	failing  atomic.Bool  // the last sync failed (logged once per outage)
	full     atomic.Bool  // the last heartbeat found the store full (logged once)

	kick chan struct{} // wakes Run to sync at once
	acks waker         // heartbeats of other nodes, for Await
}

// New returns the node, with a random ID, counted as in sync from now
// (the store was just opened); Start registers it.
func New(o Options) (*Node, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Timing = o.Timing.withDefaults()
	if o.Timing.AckTimeout <= o.Timing.StaleAfter {
		return nil, fmt.Errorf("cluster: ack timeout %v must be longer than the stale window %v", o.Timing.AckTimeout, o.Timing.StaleAfter)
	}
	if o.Name == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		o.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("cluster: node ID: %w", err)
	}
	now := o.Now()
	n := &Node{
		o:    o,
		self: access.Node{ID: hex.EncodeToString(b[:]), Name: o.Name, StartedAt: now},
		kick: make(chan struct{}, 1),
	}
	n.lastSync.Store(now.UnixNano())
	return n, nil
}

// Self is this node as registered (without heartbeat and watermark).
func (n *Node) Self() access.Node { return n.self }

// Timing is the node's timing, defaults filled in.
func (n *Node) Timing() Timing { return n.o.Timing }

// Start registers the node with a first sync.
func (n *Node) Start(ctx context.Context) error {
	if err := n.SyncNow(ctx); err != nil {
		return fmt.Errorf("cluster: register node %s: %w", n.self.Name, err)
	}
	return nil
}

// Run syncs every poll, and at once when Kick is called, until ctx ends;
// then it removes the node from the registry (a clean stop).
func (n *Node) Run(ctx context.Context) {
	t := time.NewTicker(n.o.Timing.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := n.o.Registry.RemoveNode(rctx, n.self.ID); err != nil {
				n.o.Log.Warn("cluster: leave the node registry", "node", n.self.Name, "err", err)
			}
			return
		case <-t.C:
		case <-n.kick:
		}
		_ = n.sync(ctx, false) // logged by sync
	}
}

// Kick makes Run sync at once (a revocation was notified).
func (n *Node) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Acked wakes the revokes waiting in Await (another node's heartbeat was
// notified).
func (n *Node) Acked() { n.acks.wake() }

// SyncNow syncs and writes a heartbeat at once, acknowledging what it
// applied: the acknowledgement socket and Start use it.
func (n *Node) SyncNow(ctx context.Context) error { return n.sync(ctx, true) }

// sync applies the store's changes and writes a heartbeat when forced, when
// the watermark moved (an acknowledgement) or when one is due. The node
// counts as in sync from the moment the sync started reading, once the
// heartbeat carrying it is written: a node whose acknowledgements others
// cannot see must refuse as if it were cut off. The one exception is a
// store without room for the heartbeat (access.ErrStorageFull): the poll
// read the log, so the node is current.
func (n *Node) sync(ctx context.Context, force bool) error {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	start := n.o.Now()
	mark, err := n.o.Sync(ctx)
	if err == nil && (force || !n.beaten || mark != n.lastMark || start.Sub(n.lastBeat) >= n.o.Timing.Heartbeat) {
		beat := n.self
		beat.HeartbeatAt, beat.Watermark = start, mark
		err = n.o.Registry.Heartbeat(ctx, beat)
		switch {
		case err == nil:
			n.lastBeat, n.lastMark, n.beaten = start, mark, true
			n.lastSync.Store(start.UnixNano())
		case errors.Is(err, access.ErrStorageFull):
			// The store has no room for the heartbeat, but the poll
			// kept this node current: it enforces every revocation
			// within a poll, so it goes on serving (the others stop
			// waiting for it once it is no longer live).
			n.lastSync.Store(start.UnixNano())
			if !n.full.Swap(true) {
				n.o.Log.Warn("cluster: no room in the store for the heartbeat; serving on the polled revocations", "node", n.self.Name)
			}
			err = nil
		}
	}
	if err != nil {
		if ctx.Err() == nil && !n.failing.Swap(true) {
			n.o.Log.Error("cluster: cannot sync with the store; refusing requests once it lasts longer than the stale window",
				"node", n.self.Name, "stale_after", n.o.Timing.StaleAfter, "err", err)
		}
		return fmt.Errorf("cluster: sync: %w", err)
	}
	if err == nil && n.beaten && n.lastBeat.Equal(start) {
		n.full.Store(false)
	}
	if n.failing.Swap(false) {
		n.o.Log.Info("cluster: in sync with the store again", "node", n.self.Name)
	}
	return nil
}

// LastSync is when the last successful sync started.
func (n *Node) LastSync() time.Time { return time.Unix(0, n.lastSync.Load()) }

// Unavailable returns access.ErrStoreUnreachable when the node's last
// successful sync is older than the stale window, and nil otherwise. Every
// request the node would authorize with a session, an app token or a
// service token is then refused (503), until a sync succeeds again: the
// node may have missed a revocation made elsewhere, and the revoking node
// that gave up waiting for it counts on this. Tokens stay valid; they work
// again once the store is back.
func (n *Node) Unavailable() error {
	if n.o.Now().Sub(n.LastSync()) > n.o.Timing.StaleAfter {
		return access.ErrStoreUnreachable
	}
	return nil
}

// Await waits until every other live node has acknowledged the revocation
// log entry id (see the package-level Await).
func (n *Node) Await(ctx context.Context, id int64) error {
	return Await(ctx, n.o.Registry, id, AwaitOptions{Self: n.self.ID, Timing: n.o.Timing, Wake: n.acks.wait, Now: n.o.Now})
}

// waker wakes every waiter at once: wait returns a channel that the next
// wake closes.
type waker struct {
	mu sync.Mutex
	ch chan struct{}
}

func (w *waker) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

func (w *waker) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// Status lists the nodes whose last heartbeat is at most within old, marking
// the live ones (those a revoke waits for) and this one.
func (n *Node) Status(ctx context.Context, within time.Duration) ([]access.NodeStatus, error) {
	now := n.o.Now()
	nodes, err := n.o.Registry.Nodes(ctx, now.Add(-within))
	if err != nil {
		return nil, fmt.Errorf("cluster: node status: %w", err)
	}
	out := make([]access.NodeStatus, len(nodes))
	for i, nd := range nodes {
		out[i] = access.NodeStatus{Node: nd, Live: nd.Live(now, n.o.Timing.LiveWindow()), Self: nd.ID == n.self.ID}
	}
	return out, nil
}
