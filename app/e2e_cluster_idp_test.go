package app

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/internal/testidp"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"github.com/gatehouse-dev/gatehouse/token"
)

// nodeRouter is a browser's transport in front of a cluster: a request for
// one of the cluster's hosts goes to the node route picks (0-based), any
// other (the identity provider) straight to its address.
type nodeRouter struct {
	c     *gatehouseCluster
	route func(r *http.Request) int
	via   []http.RoundTripper

	mu   sync.Mutex
	sent []routed
}

// routed is one request the router sent to a node.
type routed struct {
	node int
	url  string
}

func newNodeRouter(c *gatehouseCluster, route func(r *http.Request) int) *nodeRouter {
	n := &nodeRouter{c: c, route: route}
	for i := range c.nodes {
		n.via = append(n.via, &http.Transport{DialContext: c.dialer(i)})
	}
	return n
}

func (n *nodeRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Host, fmt.Sprintf(".localhost:%d", n.c.port)) {
		return http.DefaultTransport.RoundTrip(r)
	}
	i := n.route(r)
	n.mu.Lock()
	n.sent = append(n.sent, routed{i, r.URL.String()})
	n.mu.Unlock()
	return n.via[i].RoundTrip(r)
}

// to lists the URLs of the requests sent to node i whose path is path.
func (n *nodeRouter) to(i int, path string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, s := range n.sent {
		if s.node == i && strings.Contains(s.url, path) {
			out = append(out, s.url)
		}
	}
	return out
}

// browser is a client with a new cookie jar behind router.
func (n *nodeRouter) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Transport: n, Timeout: 20 * time.Second}
}

// callbackOnNode2 routes the identity provider's callback to node 2 and
// every other request to node 1.
func callbackOnNode2(c *gatehouseCluster) *nodeRouter {
	return newNodeRouter(c, func(r *http.Request) int {
		if r.URL.Path == access.PathCallback {
			return 1
		}
		return 0
	})
}

// onNode routes every request to node i.
func onNode(i int) func(*http.Request) int { return func(*http.Request) int { return i } }

// kidOf is the key ID in the header of the token the origin received.
func kidOf(t *testing.T, w whoami) string {
	t.Helper()
	jwt := header(w, "Cf-Access-Jwt-Assertion")
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err != nil || json.Unmarshal(raw, &h) != nil || h.Kid == "" {
		t.Fatalf("no kid in the token %q", jwt)
	}
	return h.Kid
}

// TestClusterOIDCAndKeys runs three nodes with an OpenID provider, on one
// PostgreSQL database.
//   - An OIDC sign-in started on node 1 whose callback lands on node 2
//     succeeds, the state cannot be used again on node 3, and the browser
//     uses the app through node 3.
//   - A key rotation made with the command line is seen by every node
//     at once (NOTIFY, not the key poll): each publishes the new key as the
//     signing one, signs a fresh sign-in's token with it, and still
//     accepts a token of the old key.
func TestClusterOIDCAndKeys(t *testing.T) {
	lb, team := listenTeam(t)
	op := testidp.StartOIDC(t, 0, []string{team + access.PathCallback})
	dsn := testkit.PostgresDSN(t)
	tmpl := idpConfig(oidcIdP("corp", op.Issuer, ""), "corp") + clusterStore
	c := startClusterOn(t, lb, tmpl, dsn, 3)
	c.awaitLive(t)
	app := c.url("only", "/x?format=json") // allows corp only: straight to the provider

	split := callbackOnNode2(c)
	alice := split.browser(t)
	t.Run("callback on another node", func(t *testing.T) {
		w := decodeWhoami(t, oidcSignIn(t, op, alice, app, "alice"))
		if w.Email != "alice@example.com" {
			t.Fatalf("signed in as %q", w.Email)
		}
		callbacks := split.to(1, access.PathCallback)
		if len(callbacks) != 1 || len(split.to(0, access.PathCallback)) != 0 {
			t.Fatalf("callbacks on node 2: %v, on node 1: %v; want the one on node 2", callbacks, split.to(0, access.PathCallback))
		}
		if len(split.to(0, "/x")) == 0 {
			t.Fatal("the sign-in did not start on node 1")
		}
		replay := newNodeRouter(c, onNode(2)).browser(t)
		resp, err := replay.Get(callbacks[0])
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Sign in again") {
			t.Errorf("the used state on node 3: %d\n%s", resp.StatusCode, body)
		}
		alice.Transport = newNodeRouter(c, onNode(2))
		resp, err = alice.Get(app)
		if err != nil {
			t.Fatal(err)
		}
		if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
			t.Errorf("through node 3: %q", w.Email)
		}
	})

	t.Run("key rotation seen by every node", func(t *testing.T) {
		resp, err := alice.Get(app)
		if err != nil {
			t.Fatal(err)
		}
		oldKid := kidOf(t, decodeWhoami(t, resp))
		signing := func(i int) (string, []string) {
			resp, err := newNodeRouter(c, onNode(i)).browser(t).Get(team + access.PathCerts)
			if err != nil {
				t.Fatal(err)
			}
			var certs token.Certs
			if err := json.Unmarshal([]byte(readBody(t, resp)), &certs); err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range certs.Keys {
				kids = append(kids, k.Kid)
			}
			return certs.PublicCert.Kid, kids
		}
		for i := range c.nodes {
			if kid, _ := signing(i); kid != oldKid {
				t.Fatalf("node %d signs with %q before the rotation, want %q", i+1, kid, oldKid)
			}
		}
		cfgPath := writeConfigFile(t, strings.ReplaceAll(tmpl, "{{DSN}}", dsn), c.nodes[0], t.TempDir())
		rotated := time.Now()
		if out := runCLI(t, "keys", "rotate", "-config", cfgPath); !strings.Contains(out, "new signing key") {
			t.Fatalf("keys rotate said %q", out)
		}
		var newKid string
		for i := range c.nodes {
			// Pushed by PostgreSQL's NOTIFY: well before the key poll.
			ok, took := pollUntil(2*time.Second, func() bool {
				kid, _ := signing(i)
				return kid != oldKid
			})
			if !ok {
				t.Fatalf("node %d still signs with the old key %v after the rotation", i+1, time.Since(rotated).Round(time.Millisecond))
			}
			kid, kids := signing(i)
			t.Logf("node %d signs with the new key %v after the rotation (%v of polling)", i+1, time.Since(rotated).Round(time.Millisecond), took.Round(time.Millisecond))
			if newKid == "" {
				newKid = kid
			}
			if kid != newKid || !strings.Contains(strings.Join(kids, " "), oldKid) {
				t.Errorf("node %d signs with %q and publishes %v; want %q, with the old %q still published", i+1, kid, kids, newKid, oldKid)
			}
		}
		for i := range c.nodes {
			bob := newNodeRouter(c, onNode(i)).browser(t)
			if kid := kidOf(t, decodeWhoami(t, oidcSignIn(t, op, bob, app, "bob"))); kid != newKid {
				t.Errorf("a sign-in on node %d got a token of key %q, want the new %q", i+1, kid, newKid)
			}
			alice.Transport = newNodeRouter(c, onNode(i))
			resp, err := alice.Get(app)
			if err != nil {
				t.Fatal(err)
			}
			if w := decodeWhoami(t, resp); w.Email != "alice@example.com" {
				t.Errorf("alice's token of the old key on node %d: %q", i+1, w.Email)
			}
		}
	})
}

// TestClusterSAML runs three nodes with SimpleSAMLphp, sharing the SAML
// service provider's key pair (sp_key_file, sp_cert_file) and one
// PostgreSQL database. A sign-in started on node 1 whose response is
// posted to node 2 succeeds; the same response posted again to node 3 is
// refused (the pending sign-in and the assertion replay cache are shared);
// the browser then uses the app through node 3.
func TestClusterSAML(t *testing.T) {
	ssp := testidp.StartSAML(t, 0)
	dir := t.TempDir()
	keyFile, certFile := filepath.Join(dir, "sp.key"), filepath.Join(dir, "sp.crt")
	if err := idp.EnsureSPKeyPair(keyFile, certFile, "gatehouse cluster", time.Now()); err != nil {
		t.Fatal(err)
	}
	block := samlIdP("sso", ssp.MetadataURL) + fmt.Sprintf("sp_key_file = %q\nsp_cert_file = %q\n", keyFile, certFile)
	c := startCluster(t, idpConfig(block, "sso")+clusterStore, testkit.PostgresDSN(t), 3)
	c.awaitLive(t)
	registerSP(t, c.nodes[0], ssp, "/cdn-cgi/access/saml-metadata")
	app := c.url("only", "/s?format=json") // allows sso only: straight to the IdP

	split := callbackOnNode2(c)
	bob := split.browser(t)
	action, fields := samlResponseForm(t, bob, samlStart(t, bob, app), "bob", "bobpass")
	resp, err := bob.PostForm(action, fields)
	if err != nil {
		t.Fatal(err)
	}
	if w := decodeWhoami(t, resp); w.Email != "bob@example.com" {
		t.Fatalf("signed in as %q", w.Email)
	}
	if got := split.to(1, access.PathCallback); len(got) != 1 || len(split.to(0, access.PathCallback)) != 0 {
		t.Fatalf("responses posted to node 2: %v, to node 1: %v; want the one to node 2", got, split.to(0, access.PathCallback))
	}

	replay := newNodeRouter(c, onNode(2)).browser(t)
	resp, err = replay.PostForm(action, fields)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode == http.StatusOK || strings.Contains(body, "bob@example.com") {
		t.Errorf("the response posted again to node 3 was accepted: %d", resp.StatusCode)
	}
	if d := c.nodes[2].lastFailure(t); d != "state unknown, expired or reused" && d != "saml: assertion replayed" {
		t.Errorf("audit of the replay = %q", d)
	}

	bob.Transport = newNodeRouter(c, onNode(2))
	resp, err = bob.Get(app)
	if err != nil {
		t.Fatal(err)
	}
	if w := decodeWhoami(t, resp); w.Email != "bob@example.com" {
		t.Errorf("through node 3: %q", w.Email)
	}
}
