package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// fakeRegistry is an in-memory node registry that can be made to fail.
type fakeRegistry struct {
	mu      sync.Mutex
	nodes   map[string]access.Node
	fail    error // returned by every call while set
	removed []string
}

func newFakeRegistry(nodes ...access.Node) *fakeRegistry {
	r := &fakeRegistry{nodes: map[string]access.Node{}}
	for _, n := range nodes {
		r.nodes[n.ID] = n
	}
	return r
}

func (r *fakeRegistry) Heartbeat(_ context.Context, n access.Node) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if old, ok := r.nodes[n.ID]; ok && old.Watermark > n.Watermark {
		n.Watermark = old.Watermark
	}
	r.nodes[n.ID] = n
	return nil
}

func (r *fakeRegistry) RemoveNode(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.nodes, id)
	r.removed = append(r.removed, id)
	return r.fail
}

func (r *fakeRegistry) Nodes(_ context.Context, since time.Time) ([]access.Node, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	var out []access.Node
	for _, n := range r.nodes {
		if !n.HeartbeatAt.Before(since) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b access.Node) int { return compare(a.Name, b.Name) })
	return out, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *fakeRegistry) set(id string, watermark int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[id]
	n.Watermark, n.HeartbeatAt = watermark, at
	r.nodes[id] = n
}

// fastTiming keeps the bounded waits of the tests short.
var fastTiming = Timing{Poll: 10 * time.Millisecond, Heartbeat: 50 * time.Millisecond, StaleAfter: 200 * time.Millisecond, AckTimeout: 300 * time.Millisecond}

func TestAwait(t *testing.T) {
	now := time.Now()
	node := func(id string, watermark int64, age time.Duration) access.Node {
		return access.Node{ID: id, Name: "node-" + id, HeartbeatAt: now.Add(-age), Watermark: watermark}
	}
	bound := fastTiming.AckTimeout
	tests := []struct {
		name     string
		nodes    []access.Node
		beating  []string // nodes whose heartbeats go on (watermark unchanged) during the wait
		id       int64
		want     []string // unacknowledged nodes; nil: all acknowledged
		min, max time.Duration
		failing  error
	}{
		{"no other node", []access.Node{node("self", 0, 0)}, nil, 5, nil, 0, bound / 2, nil},
		{"every node acknowledged", []access.Node{node("self", 0, 0), node("b", 5, 0), node("c", 9, 0)}, nil, 5, nil, 0, bound / 2, nil},
		{"nothing written", []access.Node{node("b", 0, 0)}, nil, 0, nil, 0, bound / 2, nil},
		{"a dead node is not waited for", []access.Node{node("b", 1, time.Minute)}, nil, 5, nil, 0, bound / 2, nil},
		{"a node that beats but lags is named after the bound", []access.Node{node("b", 5, 0), node("c", 4, 0)}, []string{"c"}, 5, []string{"node-c"}, bound, bound + time.Second, nil},
		{"a node whose heartbeat stops is named once no longer live", []access.Node{node("b", 1, 0), node("c", 4, 0)}, nil, 5, []string{"node-b", "node-c"}, fastTiming.LiveWindow() - 50*time.Millisecond, bound, nil},
		{"an unreadable registry is named after the bound", nil, nil, 5, []string{"unknown: the node registry could not be read (db down)"}, bound, bound + time.Second, errors.New("db down")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shift := time.Since(now) // the heartbeats' ages count from the subtest's start
			for i := range tc.nodes {
				tc.nodes[i].HeartbeatAt = tc.nodes[i].HeartbeatAt.Add(shift)
			}
			reg := newFakeRegistry(tc.nodes...)
			reg.fail = tc.failing
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
						for _, id := range tc.beating {
							reg.mu.Lock()
							n := reg.nodes[id]
							n.HeartbeatAt = time.Now()
							reg.nodes[id] = n
							reg.mu.Unlock()
						}
					}
				}
			}()
			start := time.Now()
			err := Await(context.Background(), reg, tc.id, AwaitOptions{Self: "self", Timing: fastTiming})
			took := time.Since(start)
			if got := access.Unacknowledged(err); !slices.Equal(got, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Await = %v, want unacknowledged %v", err, tc.want)
			}
			if tc.want != nil && !errors.Is(err, access.ErrUnacknowledged) {
				t.Fatalf("Await = %v, not ErrUnacknowledged", err)
			}
			if took < tc.min || took > tc.max {
				t.Fatalf("took %v, want between %v and %v", took, tc.min, tc.max)
			}
		})
	}
}

// TestAwaitCleanStop: a node that leaves the registry while a revoke waits
// for it (a clean stop) counts as done.
func TestAwaitCleanStop(t *testing.T) {
	reg := newFakeRegistry(access.Node{ID: "b", Name: "b", HeartbeatAt: time.Now()})
	timing := fastTiming
	timing.AckTimeout = 5 * time.Second
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = reg.RemoveNode(context.Background(), "b")
	}()
	start := time.Now()
	if err := Await(context.Background(), reg, 3, AwaitOptions{Timing: timing}); err != nil {
		t.Fatalf("Await = %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("took %v", took)
	}
}

// TestAwaitWakes: an acknowledgement that arrives during the wait ends it
// at once, the moment the heartbeat is notified.
func TestAwaitWakes(t *testing.T) {
	now := time.Now()
	reg := newFakeRegistry(access.Node{ID: "b", Name: "b", HeartbeatAt: now})
	var w waker
	timing := fastTiming
	timing.AckTimeout = 10 * time.Second
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- Await(context.Background(), reg, 3, AwaitOptions{Timing: timing, Wake: w.wait})
	}()
	time.Sleep(30 * time.Millisecond)
	reg.set("b", 3, time.Now())
	w.wake()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Await = %v", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("took %v", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Await did not return after the acknowledgement")
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestFailClosed: a node whose syncs fail refuses once the stale window has
// passed since its last successful sync, and serves again after the next
// one; a sync whose heartbeat cannot be written counts as failed.
func TestFailClosed(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := newFakeRegistry()
	var syncErr error
	var mark int64
	n, err := New(Options{Name: "n", Registry: reg, Now: clk.now,
		Timing: Timing{StaleAfter: 10 * time.Second, AckTimeout: 15 * time.Second},
		Sync:   func(context.Context) (int64, error) { return mark, syncErr }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		sync    error // the poll's error
		beat    error // the heartbeat's error
		refused bool
	}{
		{"in sync", time.Second, nil, nil, false},
		{"poll failing, within the window", 9 * time.Second, errors.New("unreachable"), nil, false},
		{"poll failing, past the window", 2 * time.Second, errors.New("unreachable"), nil, true},
		{"poll back", time.Second, nil, nil, false},
		{"heartbeat failing, within the window", 10 * time.Second, nil, errors.New("read-only"), false},
		{"heartbeat failing, past the window", time.Second, nil, errors.New("read-only"), true},
		{"heartbeat back", time.Second, nil, nil, false},
		{"store full: the poll keeps it current", 11 * time.Second, nil, fmt.Errorf("store: heartbeat: %w", access.ErrStorageFull), false},
		{"store full and poll failing", 11 * time.Second, errors.New("unreachable"), fmt.Errorf("store: heartbeat: %w", access.ErrStorageFull), true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.add(st.advance)
			syncErr, reg.fail = st.sync, st.beat
			_ = n.sync(ctx, false)
			err := n.Unavailable()
			if (err != nil) != st.refused {
				t.Fatalf("Unavailable = %v, want refused %v", err, st.refused)
			}
			if err != nil && !errors.Is(err, access.ErrStoreUnreachable) {
				t.Fatalf("Unavailable = %v, want ErrStoreUnreachable", err)
			}
		})
	}
}

// TestHeartbeats: a moved watermark is acknowledged by a heartbeat at
// once; otherwise one is written every heartbeat interval; Run removes the
// node from the registry when it stops.
func TestHeartbeats(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := newFakeRegistry()
	var mark int64 = 4
	n, err := New(Options{Registry: reg, Now: clk.now, Sync: func(context.Context) (int64, error) { return mark, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	beat := func() access.Node {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		return reg.nodes[n.Self().ID]
	}
	t0 := clk.now()
	steps := []struct {
		name      string
		advance   time.Duration
		mark      int64
		wantAt    time.Time
		wantWater int64
	}{
		{"registered", 0, 4, t0, 4},
		{"nothing new, none due", 250 * time.Millisecond, 4, t0, 4},
		{"watermark moved: at once", 250 * time.Millisecond, 6, t0.Add(500 * time.Millisecond), 6},
		{"due after the interval", time.Second, 6, t0.Add(1500 * time.Millisecond), 6},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.add(st.advance)
			mark = st.mark
			if err := n.sync(ctx, false); err != nil {
				t.Fatal(err)
			}
			if b := beat(); !b.HeartbeatAt.Equal(st.wantAt) || b.Watermark != st.wantWater {
				t.Fatalf("heartbeat = %v watermark %d, want %v %d", b.HeartbeatAt, b.Watermark, st.wantAt, st.wantWater)
			}
		})
	}
	t.Run("a clean stop removes the node", func(t *testing.T) {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { n.Run(rctx); close(done) }()
		cancel()
		<-done
		if !slices.Contains(reg.removed, n.Self().ID) {
			t.Fatalf("removed = %v", reg.removed)
		}
	})
	t.Run("name defaults to host:pid", func(t *testing.T) {
		if n.Self().Name == "" || n.Self().ID == "" {
			t.Fatalf("self = %+v", n.Self())
		}
	})
}

func TestNewRefusesShortAckTimeout(t *testing.T) {
	_, err := New(Options{Registry: newFakeRegistry(), Timing: Timing{StaleAfter: 10 * time.Second, AckTimeout: 5 * time.Second}})
	if err == nil {
		t.Fatal("New accepted an ack timeout shorter than the stale window")
	}
}

func TestNodeStatus(t *testing.T) {
	now := time.Now()
	reg := newFakeRegistry(
		access.Node{ID: "b", Name: "node-b", HeartbeatAt: now, Watermark: 7},
		access.Node{ID: "c", Name: "node-c", HeartbeatAt: now.Add(-time.Minute), Watermark: 3},
		access.Node{ID: "d", Name: "node-d", HeartbeatAt: now.Add(-2 * time.Hour)},
	)
	n, err := New(Options{Name: "node-a", Registry: reg, Sync: func(context.Context) (int64, error) { return 7, nil }, Timing: fastTiming})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := n.Status(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, s := range got {
		rows = append(rows, fmt.Sprintf("%s live=%v self=%v mark=%d", s.Name, s.Live, s.Self, s.Watermark))
	}
	want := []string{"node-a live=true self=true mark=7", "node-b live=true self=false mark=7", "node-c live=false self=false mark=3"}
	if !slices.Equal(rows, want) {
		t.Errorf("status = %q, want %q (node-d is past the hour)", rows, want)
	}
	reg.mu.Lock()
	reg.fail = errors.New("db down")
	reg.mu.Unlock()
	if _, err := n.Status(context.Background(), time.Hour); err == nil {
		t.Error("an unreadable registry gave no error")
	}
}
