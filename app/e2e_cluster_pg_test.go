package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// startLoadCluster starts three nodes of loadConfig on a fresh database
// of the test binary's PostgreSQL (startLoadClusterOn).
func startLoadCluster(t *testing.T) (*gatehouseCluster, *arrivals, string) {
	t.Helper()
	c, rec, cfgPath, _ := startLoadClusterOn(t, testkit.PostgresDSN(t), 3)
	return c, rec, cfgPath
}

// startLoadClusterOn starts n nodes of loadConfig on the PostgreSQL
// database dsn, protecting an origin that records each user's arrivals,
// and returns the path of the config for the command line (tokens,
// revokes) and the nodes' config template ({{PORT}}, {{DSN}}, {{DATA}}).
func startLoadClusterOn(t *testing.T, dsn string, n int) (c *gatehouseCluster, rec *arrivals, cfgPath, tmpl string) {
	t.Helper()
	rec = &arrivals{at: map[string][]time.Time{}}
	origin := httptest.NewServer(rec)
	t.Cleanup(origin.Close)
	tmpl = strings.ReplaceAll(loadConfig+clusterStore, "{{ORIGIN}}", origin.URL)
	c = startCluster(t, tmpl, dsn, n)
	c.awaitLive(t)
	cfgPath = writeConfigFile(t, strings.ReplaceAll(tmpl, "{{DSN}}", dsn), c.nodes[0], t.TempDir())
	return c, rec, cfgPath, tmpl
}

// TestClusterSignInOnOneNodeUsedOnOthers: a PIN sign-in through the real
// forms on node 1; the same browser (cookie jar) then uses the app through
// nodes 2 and 3, and every request reaches the origin as that user.
func TestClusterSignInOnOneNodeUsedOnOthers(t *testing.T) {
	c, rec, _ := startLoadCluster(t)
	const email = "roaming@example.com"
	node1 := c.client(t, 0, nil)
	resp := c.nodes[0].signInWithPIN(t, node1, c.url("app", "/"), email)
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("sign-in on node 1: %d %q", resp.StatusCode, body)
	}
	hits := func() int { n, _, _ := rec.split(email, time.Now().Add(time.Hour)); return n }
	if hits() != 1 {
		t.Fatalf("origin hits after the sign-in = %d, want 1", hits())
	}
	for i := 1; i < 3; i++ {
		t.Run(fmt.Sprintf("node-%d", i+1), func(t *testing.T) {
			browser := c.client(t, i, node1.Jar)
			browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			for range 5 {
				before := hits()
				resp, err := browser.Get(c.url("app", "/page"))
				if err != nil {
					t.Fatal(err)
				}
				if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != "ok" {
					t.Fatalf("GET through node %d: %d %q", i+1, resp.StatusCode, body)
				}
				if hits() != before+1 {
					t.Fatalf("origin hits %d → %d, want one more", before, hits())
				}
			}
		})
	}
	if got := len(c.mail.pins[email]); got != 1 {
		t.Errorf("%d PINs were sent, want 1: the other nodes asked to sign in again", got)
	}
}

// TestClusterRevokeUnderLoad: the revoked user's cookie hammers all three
// nodes; a revoke through node 3's admin API returns acknowledged by every
// node, and not one request of the user reaches the origin after it
// returned, through any node. Another user goes on being served.
func TestClusterRevokeUnderLoad(t *testing.T) {
	c, rec, cfgPath := startLoadCluster(t)
	apiToken, _ := createAPITokenCLI(t, cfgPath, "ops", "revoke")
	const victim, bystander = "victim@example.com", "bystander@example.com"
	vb, bb := c.signIn(t, victim), c.signIn(t, bystander)

	const workers = 3 // per node and user
	stop := make(chan struct{})
	var waits, bystanders []func() map[int]int
	for i := range c.nodes {
		waits = append(waits, hammerVia(t, vb, c.url("app", "/load"), workers, stop, c.dialer(i)))
		bystanders = append(bystanders, hammerVia(t, bb, c.url("app", "/load"), 1, stop, c.dialer(i)))
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	r := c.nodes[2].callAPIWith(t, &http.Client{Transport: &http.Transport{DialContext: c.dialer(2)}, Timeout: 20 * time.Second},
		"POST", "users/revoke", apiToken, map[string]string{"email": victim})
	returned := time.Now()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	if r.Status != http.StatusOK || r.Body["acknowledged"] != true {
		t.Fatalf("revoke on node 3: %d %s", r.Status, r.Raw)
	}
	for i, w := range waits {
		counts := w()
		if counts[http.StatusUnauthorized] == 0 {
			t.Errorf("node %d refused none of the revoked user's requests: %v", i+1, counts)
		}
		if b := bystanders[i](); b[http.StatusOK] == 0 {
			t.Errorf("node %d served no request of the other user: %v", i+1, b)
		}
	}
	before, after, last := rec.split(victim, returned)
	t.Logf("revoke took %v; %d of the user's requests reached the origin before it returned, %d after", returned.Sub(start).Round(time.Millisecond), before, after)
	if before < 3*workers {
		t.Errorf("only %d requests reached the origin before the revoke: the load did not run", before)
	}
	if after != 0 {
		t.Errorf("%d requests reached the origin after the revoke returned, the last %v after it", after, last.Sub(returned))
	}
	if _, afterOther, _ := rec.split(bystander, returned); afterOther == 0 {
		t.Errorf("the other user was not served after the revoke")
	}
}
