package access

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Node is one serving Gatehouse as the node registry records it: every node
// sharing a store registers at start, writes a heartbeat about every second
// with the ID of the newest revocation-log entry it has applied (its
// watermark), and removes itself on a clean stop.
type Node struct {
	ID          string    // random, chosen at start
	Name        string    // configured, or host:pid
	StartedAt   time.Time // when it registered
	HeartbeatAt time.Time // its last heartbeat
	Watermark   int64     // newest revocation-log entry it has applied
}

// Live reports whether the node's last heartbeat is less than window old at
// now.
func (n Node) Live(now time.Time, window time.Duration) bool {
	return now.Sub(n.HeartbeatAt) < window
}

// ErrUnacknowledged is what UnacknowledgedError matches with errors.Is.
var ErrUnacknowledged = errors.New("revocation not acknowledged by every node")

// UnacknowledgedError is returned by a revoke that was recorded and is in
// force on this node, but that some other live nodes did not acknowledge
// within the bound: they are named here. Such a node has not synced with
// the store for longer than the stale window by then, so it refuses every
// request it would authorize; the revoke holds, and the caller reports who
// did not answer.
type UnacknowledgedError struct {
	Nodes   []string      // names of the nodes that did not acknowledge
	Timeout time.Duration // how long the revoke waited
}

func (e *UnacknowledgedError) Error() string {
	return fmt.Sprintf("revocation recorded and in force here, but not acknowledged within %v by: %s",
		e.Timeout, strings.Join(e.Nodes, ", "))
}

// Is makes errors.Is(err, ErrUnacknowledged) true.
func (e *UnacknowledgedError) Is(target error) bool { return target == ErrUnacknowledged }

// Unacknowledged returns the nodes err names when it is (or wraps) an
// *UnacknowledgedError, and nil otherwise.
func Unacknowledged(err error) []string {
	if e, ok := errors.AsType[*UnacknowledgedError](err); ok {
		return e.Nodes
	}
	return nil
}

// ErrStoreUnreachable refuses the requests a node would authorize while it
// has not synced with the store for longer than its stale window: it may
// have missed a revocation made on another node.
var ErrStoreUnreachable = errors.New("session store unreachable")
