package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// probe is one user's requests through one node, each with its time and
// status, sent until stop is closed.
type probe struct {
	mu    sync.Mutex
	times []time.Time
	codes []int
	done  chan struct{}
}

func startProbe(c *gatehouseCluster, node int, browser *http.Client, target string, stop <-chan struct{}) *probe {
	p := &probe{done: make(chan struct{})}
	hc := &http.Client{Jar: browser.Jar, Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: c.dialer(node)},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
			code := 0 // a transport error
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
				code = resp.StatusCode
			}
			p.mu.Lock()
			p.times, p.codes = append(p.times, time.Now()), append(p.codes, code)
			p.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return p
}

// first is the time of the first answer with status code after from
// (zero: none).
func (p *probe) first(code int, from time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, at := range p.times {
		if at.After(from) && p.codes[i] == code {
			return at
		}
	}
	return time.Time{}
}

// count counts the answers with status code between from and to.
func (p *probe) count(code int, from, to time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for i, at := range p.times {
		if at.After(from) && at.Before(to) && p.codes[i] == code {
			n++
		}
	}
	return n
}

// TestClusterPostgresOutage: two nodes serve a signed-in user while their
// PostgreSQL server is stopped, then started again. Within the stale
// window every node refuses (503, /readyz not ready) and nothing reaches
// the origin; a revoke and a sign-in during the outage fail with the
// store-unreachable error instead of claiming success; after the restart
// both nodes serve again by themselves, and a revoke is acknowledged by
// both (the revocation feed resumed) with no request of the revoked user
// reaching the origin after it returned. The server is stopped as an
// operator does (pg_ctl -m fast) and crashed (-m immediate).
func TestClusterPostgresOutage(t *testing.T) {
	for _, mode := range []string{"stop", "crash"} {
		t.Run(mode, func(t *testing.T) { testPostgresOutage(t, mode) })
	}
}

func testPostgresOutage(t *testing.T, mode string) {
	pg := testkit.NewPostgres(t)
	halt := pg.Stop
	if mode == "crash" {
		halt = pg.Crash
	}
	c, rec, cfgPath, _ := startLoadClusterOn(t, pg.DSN(), 2)
	apiToken, _ := createAPITokenCLI(t, cfgPath, "ops", "revoke")
	api := func(node int) *http.Client {
		return &http.Client{Transport: &http.Transport{DialContext: c.dialer(node)}, Timeout: 20 * time.Second}
	}

	const alice, bob = "alice@example.com", "bob@example.com"
	ab, bb := c.signIn(t, alice), c.signIn(t, bob)
	stop := make(chan struct{})
	var probes []*probe
	for i := range c.nodes {
		probes = append(probes, startProbe(c, i, ab, c.url("app", "/load"), stop))
	}
	defer func() {
		close(stop)
		for _, p := range probes {
			<-p.done
		}
	}()
	time.Sleep(300 * time.Millisecond)

	down := time.Now()
	halt(t)
	stopped := time.Now()
	// Before the node counts itself stale, the write itself fails.
	early := c.nodes[0].callAPIWith(t, api(0), "POST", "users/revoke", apiToken, map[string]string{"email": bob})
	if early.Status != http.StatusServiceUnavailable || !strings.Contains(early.Raw, "session store unreachable") {
		t.Errorf("revoke just after the store went down: %d %s", early.Status, early.Raw)
	}
	refusing := down.Add(fastCluster.StaleAfter + time.Second) // by then every node refuses
	for i, p := range probes {
		ok, _ := pollUntil(10*time.Second, func() bool { return !p.first(http.StatusServiceUnavailable, down).IsZero() })
		if !ok {
			t.Fatalf("node %d never answered 503 with the store down", i+1)
		}
		t.Logf("node %d: first 503 %v after the stop began (pg_ctl took %v)", i+1,
			p.first(http.StatusServiceUnavailable, down).Sub(down).Round(time.Millisecond), stopped.Sub(down).Round(time.Millisecond))
	}
	if d := time.Until(refusing); d > 0 {
		time.Sleep(d)
	}

	t.Run("readyz reports not ready", func(t *testing.T) {
		for i, n := range c.nodes {
			w := httptest.NewRecorder()
			n.app.MetricsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("node %d /readyz: %d %s", i+1, w.Code, w.Body)
			}
		}
	})
	t.Run("a revoke fails and says why", func(t *testing.T) {
		r := c.nodes[1].callAPIWith(t, api(1), "POST", "users/revoke", apiToken, map[string]string{"email": bob})
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Raw, "session store unreachable") {
			t.Errorf("revoke with the store down: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("a sign-in fails and says why", func(t *testing.T) {
		b := c.client(t, 1, nil)
		resp, err := b.Get(c.url("app", "/"))
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "session store unreachable") {
			t.Errorf("sign-in with the store down: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
	})
	time.Sleep(500 * time.Millisecond)

	up := time.Now()
	pg.Start(t)
	started := time.Now()
	for i, p := range probes {
		if n := p.count(http.StatusOK, refusing, up); n != 0 {
			t.Errorf("node %d served %d requests with the store down past the stale window", i+1, n)
		}
		ok, _ := pollUntil(15*time.Second, func() bool { return !p.first(http.StatusOK, started).IsZero() })
		if !ok {
			t.Fatalf("node %d did not serve again after PostgreSQL came back", i+1)
		}
		t.Logf("node %d: serving again %v after PostgreSQL answered (start took %v)", i+1,
			p.first(http.StatusOK, started).Sub(started).Round(time.Millisecond), started.Sub(up).Round(time.Millisecond))
	}
	_, afterRefusing, _ := rec.split(alice, refusing)
	_, afterUp, _ := rec.split(alice, up)
	if during := afterRefusing - afterUp; during != 0 {
		t.Errorf("%d of alice's requests reached the origin with the store down past the stale window", during)
	}
	c.awaitLive(t)

	t.Run("a revoke after the restart is acknowledged by both nodes", func(t *testing.T) {
		bobStop := make(chan struct{})
		var waits []func() map[int]int
		for i := range c.nodes {
			waits = append(waits, hammerVia(t, bb, c.url("app", "/load"), 2, bobStop, c.dialer(i)))
		}
		time.Sleep(300 * time.Millisecond)
		r := c.nodes[0].callAPIWith(t, api(0), "POST", "users/revoke", apiToken, map[string]string{"email": bob})
		returned := time.Now()
		time.Sleep(500 * time.Millisecond)
		close(bobStop)
		for _, w := range waits {
			w()
		}
		if r.Status != http.StatusOK || r.Body["acknowledged"] != true {
			t.Fatalf("revoke after the restart: %d %s", r.Status, r.Raw)
		}
		before, after, last := rec.split(bob, returned)
		if before < 2 {
			t.Errorf("only %d of bob's requests reached the origin before the revoke: the load did not run", before)
		}
		if after != 0 {
			t.Errorf("%d of bob's requests reached the origin after the revoke returned, the last %v after it", after, last.Sub(returned))
		}
	})
}
