package app

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var shutdownConfig = e2eHeader(`shutdown_grace = "1s"`) + `
[[apps]]
name = "slow"
domains = ["slow.localhost:{{PORT}}"]
origin = "{{ORIGIN}}"
  [[apps.policies]]
  name = "open"
  decision = "bypass"
  include = [{ everyone = true }]
`

// TestShutdownGrace stops a real serve with an event stream and a hanging
// request open: the stream is closed at once, the hanging request is cut
// when shutdown_grace ends, and the serve returns cleanly (exit 0).
func TestShutdownGrace(t *testing.T) {
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer origin.Close()
	defer close(release)
	env := startEnv(t, strings.ReplaceAll(shutdownConfig, "{{ORIGIN}}", origin.URL), "")
	c := newClient(t, true)
	c.Timeout = 0

	req, _ := http.NewRequest("GET", env.url("slow", "/events"), nil)
	req.Header.Set("Accept", "text/event-stream")
	stream, err := c.Do(req)
	if err != nil || stream.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %v", err)
	}
	streamEnded := make(chan time.Time, 1)
	go func() {
		_, _ = bufio.NewReader(stream.Body).ReadString('\n')
		streamEnded <- time.Now()
	}()
	hangEnded := make(chan time.Time, 1)
	go func() {
		resp, err := c.Get(env.url("slow", "/hang"))
		if err == nil {
			resp.Body.Close()
		}
		hangEnded <- time.Now()
	}()
	time.Sleep(200 * time.Millisecond) // both requests at the origin

	start := time.Now()
	env.cancel()
	var serveErr error
	select {
	case serveErr = <-env.done:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
	took := time.Since(start)
	env.cancel = nil // stopped here
	if serveErr != nil {
		t.Fatalf("a deliberate shutdown returned %v, want a clean exit", serveErr)
	}
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("shutdown took %v, want about the 1s grace", took)
	}
	select {
	case at := <-streamEnded:
		if at.Sub(start) > 500*time.Millisecond {
			t.Errorf("the event stream was closed %v after the stop, want at once", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Error("the event stream was never closed")
	}
	select {
	case <-hangEnded:
	case <-time.After(5 * time.Second):
		t.Error("the hanging request was never cut")
	}
}
