package app

import (
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// acmeNodeConfig is acmeConfig for one node of a cluster: the node listens
// on its own ports ({{NODEHTTP}}, {{NODEHTTPS}}) while the team domain and
// the app name the balancer's HTTPS port ({{HTTPS}}), and every node keeps
// its data, certificates and locks included, in one PostgreSQL database.
func acmeNodeConfig(t *testing.T, peb *pebbleCA, dsn string) string {
	t.Helper()
	text := strings.NewReplacer(
		`listen = "127.0.0.1:{{HTTP}}"`, `listen = "127.0.0.1:{{NODEHTTP}}"`,
		`listen_https = "127.0.0.1:{{HTTPS}}"`, `listen_https = "127.0.0.1:{{NODEHTTPS}}"`,
	).Replace(acmeConfig)
	if strings.Contains(text, "{{HTTP}}") || !strings.Contains(text, "{{NODEHTTPS}}") {
		t.Fatal("acmeConfig no longer has the listen lines acmeNodeConfig rewrites")
	}
	return strings.NewReplacer("{{CA}}", peb.dirURL, "{{CAROOT}}", peb.listenerCA,
		"{{CHALLENGES}}", "", "{{APPS}}", "").Replace(text) + strings.ReplaceAll(clusterStore, "{{DSN}}", dsn)
}

// acmeNode is one Gatehouse node of TestClusterACME: a `gatehouse serve`
// process of its own, so that it shares nothing with the other nodes but
// the PostgreSQL store (certmagic keeps the challenges it presents in
// process memory: nodes in one process would find each other's there).
type acmeNode struct {
	name      string
	httpPort  int
	httpsPort int
	logs      *syncBuffer
	cmd       *exec.Cmd
	exited    chan error
}

// buildGatehouse builds the gatehouse command into a temporary directory.
func buildGatehouse(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-dev/gatehouse").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// newACMENode writes the config text for node name, on its own free HTTP
// and HTTPS ports with the balancer's HTTPS port httpsPort in its URLs.
// It does not run yet: see run.
func newACMENode(t *testing.T, bin, text, name string, httpsPort int) *acmeNode {
	t.Helper()
	n := &acmeNode{name: name, httpPort: freePort(t), httpsPort: freePort(t), logs: &syncBuffer{}, exited: make(chan error, 1)}
	dir := t.TempDir()
	text = strings.NewReplacer("{{NODEHTTP}}", fmt.Sprint(n.httpPort), "{{NODEHTTPS}}", fmt.Sprint(n.httpsPort),
		"{{HTTPS}}", fmt.Sprint(httpsPort), "{{DATA}}", filepath.ToSlash(filepath.Join(dir, "data"))).Replace(text) +
		fmt.Sprintf("node_name = %q\n", name)
	cfgFile := filepath.Join(dir, "gatehouse.toml")
	if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "serve", "-config", cfgFile)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	return n
}

// run starts the node's process; it is stopped with SIGTERM when t ends.
func (n *acmeNode) run(t *testing.T) {
	t.Helper()
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.exited <- n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		n.stop(t)
		if t.Failed() {
			t.Logf("%s log:\n%s", n.name, n.logs.String())
		}
	})
}

// stop ends the node with SIGTERM and waits for it (its log is complete
// then: the process writes its log in batches).
func (n *acmeNode) stop(t *testing.T) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may have exited
	select {
	case <-n.exited:
	case <-time.After(15 * time.Second):
		n.cmd.Process.Kill() //nolint:errcheck // stuck
		t.Errorf("%s did not stop on SIGTERM", n.name)
	}
}

// waitServed waits until the node's own HTTPS port serves a certificate for
// name that chains to roots, and returns its leaf.
func (n *acmeNode) waitServed(t *testing.T, name string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	var st tls.ConnectionState
	var err error
	ok, _ := pollUntil(60*time.Second, func() bool {
		select {
		case err := <-n.exited:
			t.Fatalf("%s exited: %v\n%s", n.name, err, n.logs.String())
		default:
		}
		st, err = handshake(n.httpsPort, name, roots, "h2", "http/1.1")
		return err == nil
	})
	if !ok {
		t.Fatalf("%s serves no certificate for %s: %v\n%s", n.name, name, err, n.logs.String())
	}
	return st.PeerCertificates[0]
}

// storedCerts returns the certificate files certmagic stored in the
// PostgreSQL database dsn.
func storedCerts(t *testing.T, dsn string) []string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return storedCertFiles(t, db)
}

// obtaining returns the names node e placed an order for.
func obtaining(e *acmeNode) []string {
	var out []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `msg="obtaining certificate"`) {
			out = append(out, logField(line, "identifier"))
		}
	}
	return out
}

// keyAuths returns the "served key authentication" lines of node e, as
// identifier (or server name), challenge and distributed (true when the
// challenge came from the store, not from the node's own memory).
func keyAuths(e *acmeNode) [][3]string {
	var out [][3]string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if !strings.Contains(line, `msg="served key authentication`) {
			continue
		}
		id := logField(line, "identifier")
		if id == "" {
			id = logField(line, "server_name")
		}
		out = append(out, [3]string{id, logField(line, "challenge"), logField(line, "distributed")})
	}
	return out
}

// logField returns the value of key=value in a slog text line.
func logField(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return strings.Trim(v, `"`)
}

// challengeBalancer listens on the fixed port pebble validates on and hands
// each connection to the next node's port, round-robin, like a TCP load
// balancer: a validation may land on any node. It holds the first
// connections until every node listens, so that the round goes over all of
// them (the first node up may order before the others listen), and then
// passes over a node it cannot connect to.
type challengeBalancer struct {
	mu    sync.Mutex
	nodes []*acmeNode
	port  func(*acmeNode) int
	next  int
	hits  map[*acmeNode]int
	up    sync.Once
}

// startChallengeBalancer listens on 127.0.0.1:port for nodes, reaching
// each on nodePort(node).
func startChallengeBalancer(t *testing.T, port int, nodes []*acmeNode, nodePort func(*acmeNode) int) *challengeBalancer {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	b := &challengeBalancer{nodes: nodes, port: nodePort, hits: map[*acmeNode]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go b.forward(in)
		}
	}()
	return b
}

// dial connects to the next node that accepts, round-robin.
func (b *challengeBalancer) dial() (net.Conn, error) {
	b.up.Do(func() {
		pollUntil(30*time.Second, func() bool {
			for _, n := range b.nodes {
				c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.port(n)), time.Second)
				if err != nil {
					return false
				}
				c.Close()
			}
			return true
		})
	})
	b.mu.Lock()
	start := b.next
	b.next++
	b.mu.Unlock()
	var err error
	for i := range b.nodes {
		n := b.nodes[(start+i)%len(b.nodes)]
		var c net.Conn
		if c, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.port(n)), time.Second); err == nil {
			b.mu.Lock()
			b.hits[n]++
			b.mu.Unlock()
			return c, nil
		}
	}
	return nil, err
}

// handed returns how many connections went to node n.
func (b *challengeBalancer) handed(n *acmeNode) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[n]
}

// forward copies in to a node and back.
func (b *challengeBalancer) forward(in net.Conn) {
	defer in.Close()
	out, err := b.dial()
	if err != nil {
		return
	}
	defer out.Close()
	pipe(in, out)
}

// TestClusterACME: three Gatehouse nodes (processes) on one PostgreSQL
// store, started together against a real ACME CA (pebble, validating
// HTTP-01 and TLS-ALPN-01 for real through a balancer in front of the
// nodes), obtain one certificate per name between them, and every node
// serves it; a fourth node started later serves it from the store without
// an order.
func TestClusterACME(t *testing.T) {
	dsn := testkit.PostgresDSN(t)
	bin := buildGatehouse(t)
	httpPort, tlsPort := freePort(t), freePort(t)
	peb := startPebble(t, httpPort, tlsPort)
	roots, _ := peb.root(t)
	text := acmeNodeConfig(t, peb, dsn)
	names := []string{"app.gh.test", "auth.gh.test"}

	var nodes []*acmeNode
	for i := range 3 {
		nodes = append(nodes, newACMENode(t, bin, text, fmt.Sprintf("node-%d", i+1), tlsPort))
	}
	httpLB := startChallengeBalancer(t, httpPort, nodes, func(e *acmeNode) int { return e.httpPort })
	tlsLB := startChallengeBalancer(t, tlsPort, nodes, func(e *acmeNode) int { return e.httpsPort })
	// All three start at once: they race for the same names.
	for _, n := range nodes {
		n.run(t)
	}

	// Every node serves, on its own HTTPS port, a certificate for each name
	// that chains to pebble's root, and the same one (serial) as node-1.
	serial := map[string]string{}
	for i, n := range nodes {
		for _, name := range names {
			leaf := n.waitServed(t, name, roots)
			if !slices.Contains(leaf.DNSNames, name) {
				t.Errorf("%s: leaf for %s names %q", n.name, name, leaf.DNSNames)
			}
			s := leaf.SerialNumber.String()
			if i == 0 {
				serial[name] = s
			} else if s != serial[name] {
				t.Errorf("%s serves %s with serial %s, node-1 with %s", n.name, name, s, serial[name])
			}
		}
	}

	// One order per name, not one per node.
	if got := peb.orders(); got != len(names) {
		t.Errorf("pebble received %d orders, want %d (one per name)", got, len(names))
	}

	// The nodes' logs are complete once they have stopped. One node placed
	// each name's order; a node that answered a validation for a name it
	// did not order found the challenge in the store (distributed=true),
	// and at least one validation was answered so (pebble validates each
	// challenge several times, and the round goes over every node).
	for _, n := range nodes {
		n.stop(t)
	}
	var ordered []string
	for _, n := range nodes {
		got := obtaining(n)
		t.Logf("%s ordered %q; the balancers handed it %d HTTP and %d HTTPS connections",
			n.name, got, httpLB.handed(n), tlsLB.handed(n))
		ordered = append(ordered, got...)
	}
	slices.Sort(ordered)
	if !slices.Equal(ordered, names) {
		t.Errorf("the nodes placed orders for %q, want each of %q once", ordered, names)
	}
	answered, fromStore := map[string]int{}, 0
	for _, n := range nodes {
		mine := obtaining(n)
		for _, ka := range keyAuths(n) {
			name, ch, distributed := ka[0], ka[1], ka[2]
			answered[name]++
			want := "true"
			if slices.Contains(mine, name) {
				want = "false"
			} else {
				fromStore++
			}
			t.Logf("%s answered %s for %s (distributed=%s)", n.name, ch, name, distributed)
			if distributed != want {
				t.Errorf("%s answered %s for %s with distributed=%s, want %s", n.name, ch, name, distributed, want)
			}
		}
	}
	for _, name := range names {
		if answered[name] == 0 {
			t.Errorf("no node logged answering a validation for %s", name)
		}
	}
	if fromStore == 0 {
		t.Error("no validation was answered by a node other than the one that ordered")
	}

	// The store holds one certificate per name.
	if got, want := storedCerts(t, dsn), []string{"app.gh.test.crt", "auth.gh.test.crt"}; !slices.Equal(got, want) {
		t.Errorf("stored certificates = %q, want %q", got, want)
	}

	// With the three nodes gone, a fourth serves the same certificates from
	// the store, without an order.
	t.Run("a node started later serves the stored certificates without an order", func(t *testing.T) {
		before := peb.orders()
		late := newACMENode(t, bin, text, "node-4", tlsPort)
		late.run(t)
		for _, name := range names {
			if got := late.waitServed(t, name, roots).SerialNumber.String(); got != serial[name] {
				t.Errorf("node-4 serves %s with serial %s, the cluster with %s", name, got, serial[name])
			}
		}
		late.stop(t)
		if got := obtaining(late); len(got) != 0 || peb.orders() != before {
			t.Errorf("node-4 ordered %q; pebble saw %d new orders", got, peb.orders()-before)
		}
	})
}
