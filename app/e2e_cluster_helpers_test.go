package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/config"
)

// clusterStore is the [store] table of the cluster tests: every node on the
// same PostgreSQL database ({{DSN}}).
const clusterStore = `
[store]
backend = "postgres"
dsn = "{{DSN}}"
`

// gatehouseCluster is several Gatehouse nodes with one configuration and
// one PostgreSQL store, behind a round-robin TCP balancer on the port of
// the team domain and the apps' domains.
type gatehouseCluster struct {
	port  int // the balancer's port, the one in every URL
	nodes []*testEnv
	ports []int // each node's own listening port
	mail  *pinMailer
	next  atomic.Uint64
}

// startCluster boots n nodes named node-1 … node-n of the config tmpl, in
// which {{PORT}} is the balancer's port, {{DATA}} each node's data dir and
// {{DSN}} the DSN of a fresh PostgreSQL database.
func startCluster(t *testing.T, tmpl, dsn string, n int) *gatehouseCluster {
	t.Helper()
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startClusterOn(t, lb, tmpl, dsn, n)
}

// startClusterOn is startCluster with the balancer on lb, bound before so
// that an identity provider started first knows the callback URL.
func startClusterOn(t *testing.T, lb net.Listener, tmpl, dsn string, n int) *gatehouseCluster {
	t.Helper()
	c := &gatehouseCluster{port: lb.Addr().(*net.TCPAddr).Port, mail: newPinMailer()}
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(c.port), "{{DSN}}", dsn).Replace(tmpl)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.ports = append(c.ports, ln.Addr().(*net.TCPAddr).Port)
		c.nodes = append(c.nodes, c.startNode(t, ln, text, fmt.Sprintf("node-%d", i+1)))
	}
	go c.balance(t, lb)
	t.Cleanup(func() { lb.Close() })
	return c
}

// startNode serves one node of the cluster on ln.
func (c *gatehouseCluster) startNode(t *testing.T, ln net.Listener, text, name string) *testEnv {
	t.Helper()
	text = strings.ReplaceAll(text, "{{DATA}}", filepath.ToSlash(t.TempDir()))
	cfg, err := config.Parse([]byte(text), name+".toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	a, err := NewWithOptions(context.Background(), cfg, log, Options{Mail: c.mail, NodeName: name, Cluster: fastCluster})
	if err != nil {
		t.Fatalf("new app %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	env := &testEnv{app: a, port: c.port, mail: c.mail, team: fmt.Sprintf("http://auth.localhost:%d", c.port),
		cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { env.done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() { env.stop(t) })
	return env
}

// balance hands each connection to the next node, like a TCP load balancer.
func (c *gatehouseCluster) balance(t *testing.T, lb net.Listener) {
	for {
		in, err := lb.Accept()
		if err != nil {
			return
		}
		port := c.ports[int(c.next.Add(1)-1)%len(c.ports)]
		go func() {
			defer in.Close()
			out, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return
			}
			defer out.Close()
			pipe(in, out)
		}()
	}
}

// pipe copies in to out and back until both sides are done, as a TCP
// proxy does.
func pipe(in, out net.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(out, in); out.(*net.TCPConn).CloseWrite() }) //nolint:errcheck // proxy
	io.Copy(in, out)                                                    //nolint:errcheck // proxy
	wg.Wait()
}

// dialer sends every connection to node i (0-based), whatever the URL.
func (c *gatehouseCluster) dialer(i int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	port := c.ports[i]
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
	}
}

// client is newClient that reaches node i only, with the cookie jar jar
// (a new one when nil), so that one browser can move between nodes.
func (c *gatehouseCluster) client(t *testing.T, i int, jar http.CookieJar) *http.Client {
	t.Helper()
	if jar == nil {
		var err error
		if jar, err = cookiejar.New(nil); err != nil {
			t.Fatal(err)
		}
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: c.dialer(i)}}
}

// signIn signs email in with a PIN through the real forms on node 1 and
// returns the browser, which has reached the app ("ok" from the origin).
func (c *gatehouseCluster) signIn(t *testing.T, email string) *http.Client {
	t.Helper()
	b := c.client(t, 0, nil)
	resp := c.nodes[0].signInWithPIN(t, b, c.url("app", "/"), email)
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("sign-in of %s: %d %q", email, resp.StatusCode, body)
	}
	return b
}

// url is http://<sub>.localhost:<balancer port><path>.
func (c *gatehouseCluster) url(sub, path string) string {
	return fmt.Sprintf("http://%s.localhost:%d%s", sub, c.port, path)
}

// awaitLive waits until every node sees all the nodes as live.
func (c *gatehouseCluster) awaitLive(t *testing.T) {
	t.Helper()
	ok, _ := pollUntil(10*time.Second, func() bool {
		for _, n := range c.nodes {
			ns, err := n.app.Store().Nodes(context.Background(), time.Now().Add(-fastCluster.LiveWindow()))
			if err != nil || len(ns) != len(c.nodes) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("not all %d nodes became live", len(c.nodes))
	}
}
