package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/cluster"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/store"
)

// fastCluster keeps the bounded waits of the cluster tests short; the
// relations of the defaults hold (ack timeout > stale window).
var fastCluster = cluster.Timing{Poll: 50 * time.Millisecond, Heartbeat: 100 * time.Millisecond, StaleAfter: 700 * time.Millisecond, AckTimeout: 1500 * time.Millisecond}

// killableRegistry is the store's node registry until killed: then every
// heartbeat fails and the row stays behind, like a node cut off from the
// store or killed with -9.
type killableRegistry struct {
	*store.DB
	dead atomic.Bool
}

var errKilled = errors.New("killed")

func (k *killableRegistry) Heartbeat(ctx context.Context, n access.Node) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.DB.Heartbeat(ctx, n)
}

func (k *killableRegistry) RemoveNode(ctx context.Context, id string) error {
	if k.dead.Load() {
		return nil // a killed node does not leave
	}
	return k.DB.RemoveNode(ctx, id)
}

// TestClusterRevokeAcknowledged runs two Gatehouse nodes on one SQLite
// database: A serves, B syncs with the store like a serving node. A revoke
// on A returns once B has applied it; with B's heartbeats stopped, the
// revoke returns after a bounded wait naming B (API answer, audit row,
// command line exit), and B refuses credentialed requests with 503.
func TestClusterRevokeAcknowledged(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnvWith(t, e2eConfig, dataDir, Options{NodeName: "node-a", Cluster: fastCluster})
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	ops, _ := createAPITokenCLI(t, cfgPath, "ops", "read,revoke")

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := NewWithOptions(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{NodeName: "node-b", Cluster: fastCluster})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	reg := &killableRegistry{DB: b.db}
	b.node, err = cluster.New(cluster.Options{Name: "node-b", Registry: reg, Sync: b.syncStore, Timing: fastCluster})
	if err != nil {
		t.Fatal(err)
	}
	stopB := b.watchRevocations(ctx)
	t.Cleanup(stopB)

	live := func(t *testing.T) map[string]int64 {
		t.Helper()
		ns, err := env.app.Store().Nodes(ctx, time.Now().Add(-fastCluster.LiveWindow()))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, n := range ns {
			m[n.Name] = n.Watermark
		}
		return m
	}
	if ok, _ := pollUntil(5*time.Second, func() bool { return len(live(t)) == 2 }); !ok {
		t.Fatalf("live nodes = %v, want node-a and node-b", live(t))
	}

	alice, bob, carol := newClient(t, false), newClient(t, false), newClient(t, false)
	aliceNonce := signInBoth(t, env, alice, "alice@example.com")
	bobNonce := signInBoth(t, env, bob, "bob@example.com")
	signInBoth(t, env, carol, "carol@example.com")

	t.Run("acknowledged by the other node before it returns", func(t *testing.T) {
		start := time.Now()
		r := env.callAPI(t, "POST", "users/revoke", ops, map[string]string{"email": "alice@example.com"})
		took := time.Since(start)
		if r.Status != http.StatusOK || r.Body["acknowledged"] != true || r.Body["unacknowledged_nodes"] != nil {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if took > fastCluster.AckTimeout {
			t.Fatalf("took %v, the bound is %v", took, fastCluster.AckTimeout)
		}
		revs, err := env.app.Store().Revocations(ctx, 1)
		if err != nil || len(revs) != 1 {
			t.Fatal(revs, err)
		}
		if w := live(t)["node-b"]; w < revs[0].ID {
			t.Fatalf("node-b's watermark %d is behind the revocation %d the revoke returned for", w, revs[0].ID)
		}
		if !b.rev.SessionRevoked(aliceNonce) {
			t.Fatal("node-b does not enforce the revoke that returned")
		}
	})

	adminBrowser := newClient(t, false)
	t.Run("the admin overview lists both nodes live", func(t *testing.T) {
		page := adminOverview(t, env, adminBrowser)
		if row := systemRow(t, page, "node-a"); !strings.Contains(row, "(this page)") || !strings.Contains(row, ">live<") {
			t.Errorf("node-a row: %s", row)
		}
		if row := systemRow(t, page, "node-b"); strings.Contains(row, "(this page)") || !strings.Contains(row, ">live<") {
			t.Errorf("node-b row: %s", row)
		}
	})

	reg.dead.Store(true)
	t.Run("a node whose heartbeats stop is named after a bounded wait", func(t *testing.T) {
		start := time.Now()
		r := env.callAPI(t, "POST", "users/revoke", ops, map[string]string{"email": "bob@example.com"})
		took := time.Since(start)
		nodes, _ := r.Body["unacknowledged_nodes"].([]any)
		if r.Status != http.StatusOK || r.Body["acknowledged"] != false || len(nodes) != 1 || nodes[0] != "node-b" {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if took > fastCluster.AckTimeout+time.Second {
			t.Fatalf("took %v, the bound is %v", took, fastCluster.AckTimeout)
		}
		if !env.app.Revocations().SessionRevoked(bobNonce) {
			t.Fatal("the revoke is not in force on the revoking node")
		}
		events, _, err := env.app.Store().AuditSearch(ctx, admin.AuditFilter{Kind: access.EventRevoked})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(events, func(e access.Event) bool {
			return strings.Contains(e.Detail, "bob@example.com") && strings.Contains(e.Detail, "node-b")
		}) {
			t.Fatalf("no audit row of bob's revoke names node-b: %+v", events)
		}
	})

	t.Run("the admin overview shows the node cut off as gone", func(t *testing.T) {
		if row := systemRow(t, adminOverview(t, env, adminBrowser), "node-b"); !strings.Contains(row, ">gone<") {
			t.Errorf("node-b row: %s", row)
		}
	})

	t.Run("the node cut off refuses with 503", func(t *testing.T) {
		if err := b.storeUnavailable(); !errors.Is(err, access.ErrStoreUnreachable) {
			t.Fatalf("node-b unavailable = %v, want ErrStoreUnreachable", err)
		}
		for _, host := range []string{env.url("app", "/"), env.team + "/"} {
			req := httptest.NewRequest("GET", host, nil)
			req.Header.Set("Accept", "application/json")
			rec := httptest.NewRecorder()
			b.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "session store unreachable") {
				t.Fatalf("%s on node-b: %d %s", host, rec.Code, rec.Body.String())
			}
		}
	})

	t.Run("the command line names it and exits non-zero", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits the default live window (about 10 s): run without -short")
		}
		var stdout, stderr bytes.Buffer
		code := Main(ctx, []string{"revoke", "-config", cfgPath, "--user", "carol@example.com"}, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String()+stdout.String(), "node-b") {
			t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
		}
	})

	reg.dead.Store(false)
	t.Run("back in sync, it serves and acknowledges again", func(t *testing.T) {
		if ok, _ := pollUntil(5*time.Second, func() bool { return b.storeUnavailable() == nil }); !ok {
			t.Fatal("node-b still refuses after its heartbeats resumed")
		}
		start := time.Now()
		r := env.callAPI(t, "POST", "apps/revoke", ops, map[string]string{"app": "demo", "mode": "soft"})
		if r.Status != http.StatusOK || r.Body["acknowledged"] != true {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if took := time.Since(start); took > fastCluster.AckTimeout {
			t.Fatalf("took %v", took)
		}
	})
}
