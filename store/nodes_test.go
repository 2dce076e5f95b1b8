package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestNodeRegistry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.UnixMilli(1_700_000_000_000).UTC()
		a := access.Node{ID: "id-a", Name: "a:1", StartedAt: t0, HeartbeatAt: t0}
		b := access.Node{ID: "id-b", Name: "b:2", StartedAt: t0, HeartbeatAt: t0}
		for _, n := range []access.Node{a, b} {
			if err := db.RegisterNode(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		byID := func(t *testing.T, since time.Time) map[string]access.Node {
			t.Helper()
			ns, err := db.Nodes(ctx, since)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]access.Node{}
			for _, n := range ns {
				m[n.ID] = n
			}
			return m
		}
		steps := []struct {
			name  string
			do    func(t *testing.T)
			since time.Time
			want  map[string]int64 // node ID -> watermark of the rows listed
		}{
			{"registered", func(*testing.T) {}, time.Time{}, map[string]int64{"id-a": 0, "id-b": 0}},
			{"heartbeat moves the watermark", func(t *testing.T) {
				a.HeartbeatAt, a.Watermark = t0.Add(time.Second), 7
				if err := db.Heartbeat(ctx, a); err != nil {
					t.Fatal(err)
				}
			}, time.Time{}, map[string]int64{"id-a": 7, "id-b": 0}},
			{"a watermark never goes back", func(t *testing.T) {
				a.HeartbeatAt, a.Watermark = t0.Add(2*time.Second), 3
				if err := db.Heartbeat(ctx, a); err != nil {
					t.Fatal(err)
				}
			}, time.Time{}, map[string]int64{"id-a": 7, "id-b": 0}},
			{"only the recent heartbeats", func(*testing.T) {}, t0.Add(time.Second), map[string]int64{"id-a": 7}},
			{"removed", func(t *testing.T) {
				if err := db.RemoveNode(ctx, "id-a"); err != nil {
					t.Fatal(err)
				}
			}, time.Time{}, map[string]int64{"id-b": 0}},
			{"a heartbeat registers a removed node again", func(t *testing.T) {
				a.HeartbeatAt, a.Watermark = t0.Add(3*time.Second), 9
				if err := db.Heartbeat(ctx, a); err != nil {
					t.Fatal(err)
				}
			}, time.Time{}, map[string]int64{"id-a": 9, "id-b": 0}},
			{"pruned", func(t *testing.T) {
				n, err := db.PruneNodes(ctx, t0.Add(time.Second))
				if err != nil || n != 1 {
					t.Fatalf("PruneNodes = %d, %v; want 1 (b)", n, err)
				}
			}, time.Time{}, map[string]int64{"id-a": 9}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				st.do(t)
				got := byID(t, st.since)
				if len(got) != len(st.want) {
					t.Fatalf("nodes = %v, want IDs %v", got, st.want)
				}
				for id, w := range st.want {
					n, ok := got[id]
					if !ok || n.Watermark != w {
						t.Fatalf("node %s = %+v (listed %v), want watermark %d", id, n, ok, w)
					}
				}
			})
		}
		t.Run("fields round-trip", func(t *testing.T) {
			n := byID(t, time.Time{})["id-a"]
			if n.Name != "a:1" || !n.StartedAt.Equal(t0) || !n.HeartbeatAt.Equal(t0.Add(3*time.Second)) {
				t.Fatalf("node = %+v", n)
			}
		})
	})
}

func TestNodeLiveWindow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	n := access.Node{HeartbeatAt: t0}
	for _, tc := range []struct {
		name string
		at   time.Duration
		want bool
	}{
		{"just beat", 0, true},
		{"within the window", 4 * time.Second, true},
		{"at the window", 5 * time.Second, false},
		{"past it", time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.Live(t0.Add(tc.at), 5*time.Second); got != tc.want {
				t.Fatalf("Live after %v = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

// TestNodesOrdered: the registry lists nodes by name, so that answers naming
// them are stable.
func TestNodesOrdered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		for _, name := range []string{"c", "a", "b"} {
			if err := db.RegisterNode(ctx, access.Node{ID: "id-" + name, Name: name, StartedAt: now, HeartbeatAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		ns, err := db.Nodes(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range ns {
			names = append(names, n.Name)
		}
		if !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Fatalf("names = %v", names)
		}
	})
}

// TestListenSQLite: SQLite has no notifications; Listen returns at once and
// the callers poll.
func TestListenSQLite(t *testing.T) {
	db, _ := backend{name: "sqlite"}.openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	called := false
	if err := db.Listen(ctx, ChannelRevocations, func(string) { called = true }); err != nil || called {
		t.Fatalf("Listen = %v, called %v; want nil at once", err, called)
	}
	if ctx.Err() != nil {
		t.Fatal("Listen waited for the context")
	}
}

// pgListener opens a PostgreSQL database with two handles (nodes) and
// listens on channel through the second until t ends. next returns the
// next payload heard (failing t after 10 s); done receives Listen's error
// once ctx is cancelled.
func pgListener(t *testing.T, channel string) (writer *DB, ctx context.Context, cancel context.CancelFunc,
	next func(t *testing.T, what string) string, heard <-chan string, done <-chan error) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	be := backend{name: "postgres", pg: true}
	writer, dsn := be.openTest(t)
	listener, err := be.open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	ctx, cancel = context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := make(chan string, 16)
	d := make(chan error, 1)
	go func() { d <- listener.Listen(ctx, channel, func(p string) { h <- p }) }()
	next = func(t *testing.T, what string) string {
		t.Helper()
		select {
		case p := <-h:
			return p
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification: %s", what)
			return ""
		}
	}
	if p := next(t, "the connection"); p != "" {
		t.Fatalf("first call = %q, want the catch-up call with \"\"", p)
	}
	return writer, ctx, cancel, next, h, d
}

// TestListenPostgres: a revocation written by one handle (node) reaches a
// listener on another at its commit, and the listener hears again after
// its connection was killed.
func TestListenPostgres(t *testing.T) {
	writer, ctx, cancel, next, _, done := pgListener(t, ChannelRevocations)
	now := time.Now()
	if _, err := writer.RevokeApp(ctx, "demo", "aud-listen-1", false, "admin@example.com", now); err != nil {
		t.Fatal(err)
	}
	if p := next(t, "the revocation"); p == "" {
		t.Fatal("the revocation was notified without its log ID")
	}
	// Kill the listener's connection: it reconnects, calls back with ""
	// (catch up), and hears the next revocation.
	if _, err := writer.SQL().ExecContext(ctx,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if p := next(t, "the reconnection"); p != "" {
		t.Fatalf("after a lost connection got %q, want the catch-up call", p)
	}
	if _, err := writer.RevokeApp(ctx, "demo", "aud-listen-2", false, "admin@example.com", now); err != nil {
		t.Fatal(err)
	}
	if p := next(t, "the revocation after the reconnection"); p == "" {
		t.Fatal("empty payload")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen = %v at cancel, want nil", err)
	}
}

// TestListenKeys: a signing key added by a rotation on one handle (node)
// is notified with its kid to a listener on another; a rotation that lost
// the race (AddSigningKeyAfter false) notifies nothing.
func TestListenKeys(t *testing.T) {
	writer, ctx, _, next, heard, _ := pgListener(t, ChannelKeys)
	k := testKey(t, time.Now())
	if added, err := writer.AddSigningKeyAfter(ctx, k, ""); err != nil || !added {
		t.Fatalf("AddSigningKeyAfter = %v, %v", added, err)
	}
	if p := next(t, "the rotation"); p != k.ID {
		t.Fatalf("heard %q, want the new kid %q", p, k.ID)
	}
	if added, err := writer.AddSigningKeyAfter(ctx, testKey(t, time.Now()), ""); err != nil || added {
		t.Fatalf("a rotation from a stale newest key = %v, %v; want not added", added, err)
	}
	select {
	case p := <-heard:
		t.Errorf("a rotation that added nothing notified %q", p)
	case <-time.After(300 * time.Millisecond):
	}
}
