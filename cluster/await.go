package cluster

import (
	"context"
	"slices"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// AwaitOptions tune Await.
type AwaitOptions struct {
	// Self is the ID of the revoking node, which enforced the revocation
	// before writing it down; "" for the command line, which is no node.
	Self   string
	Timing Timing // the live window and the ack timeout
	// Wake, when set, returns a channel closed when a heartbeat may have
	// come in (PostgreSQL notifications); the registry is read again then,
	// and every 50 ms anyway.
	Wake func() <-chan struct{}
	Now  func() time.Time // nil: time.Now
}

// Await returns nil once every node but opts.Self that was live when it
// started has acknowledged id, the ID of a revocation-log entry: its
// watermark reached id, or it left the registry (a clean stop). It returns
// at once when there is no other live node, or id is 0 (nothing was
// written). A node that stops being live while it waits (cut off from the
// store, or dead) is given up on at once, and any still behind at the ack
// timeout too: Await then returns an *access.UnacknowledgedError naming
// them. Each of those has passed its stale window by then and refuses
// every request (Node.Unavailable), so the revocation holds either way.
// Nodes that register during the wait load the revocation at their start.
func Await(ctx context.Context, reg Registry, id int64, opts AwaitOptions) error {
	if id == 0 {
		return nil
	}
	t := opts.Timing.withDefaults()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	live := t.LiveWindow()
	begin := now()
	deadline := begin.Add(t.AckTimeout)
	var (
		waiting map[string]string // ID -> name of the nodes still behind; nil until the first read
		gone    []string          // names of the nodes given up on
		readErr error
	)
	for {
		var wake <-chan struct{}
		if opts.Wake != nil {
			wake = opts.Wake() // before the read: a heartbeat after it wakes us
		}
		at := now()
		nodes, err := reg.Nodes(ctx, begin.Add(-live))
		if readErr = err; err == nil {
			seen := make(map[string]bool, len(nodes))
			for _, n := range nodes {
				seen[n.ID] = true
				switch {
				case waiting == nil:
				case waiting[n.ID] == "":
					continue // not waited for, or done
				case n.Watermark >= id:
					delete(waiting, n.ID)
				case !n.Live(at, live):
					gone = append(gone, n.Name)
					delete(waiting, n.ID)
				}
			}
			if waiting == nil {
				waiting = map[string]string{}
				for _, n := range nodes {
					if n.ID != opts.Self && n.Live(at, live) && n.Watermark < id {
						waiting[n.ID] = n.Name
					}
				}
			}
			for nid := range waiting {
				if !seen[nid] {
					delete(waiting, nid) // left the registry: stopped cleanly
				}
			}
			if len(waiting) == 0 {
				if len(gone) == 0 {
					return nil
				}
				return unacknowledged(gone, nil, t.AckTimeout)
			}
		}
		left := deadline.Sub(at)
		if left <= 0 {
			if waiting == nil {
				return unacknowledged(nil, readErr, t.AckTimeout)
			}
			for _, name := range waiting {
				gone = append(gone, name)
			}
			return unacknowledged(gone, nil, t.AckTimeout)
		}
		timer := time.NewTimer(min(left, ackRecheck))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// unacknowledged is the answer naming the nodes that did not acknowledge,
// sorted, or saying that the registry could not be read at all.
func unacknowledged(names []string, readErr error, timeout time.Duration) error {
	if len(names) == 0 && readErr != nil {
		names = []string{"unknown: the node registry could not be read (" + readErr.Error() + ")"}
	}
	slices.Sort(names)
	return &access.UnacknowledgedError{Nodes: names, Timeout: timeout}
}
