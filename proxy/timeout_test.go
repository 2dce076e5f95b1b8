package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// TestOriginTimeout: an origin that accepts and never answers gets a 504
// after the app's origin_timeout, as a page or as the JSON error, while an
// event stream whose headers came in time runs longer than the timeout.
func TestOriginTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(400 * time.Millisecond)
			_, _ = io.WriteString(w, "data: late\n\n")
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer origin.Close()
	f := newFixture(t, origin.URL, func(o *Options) { o.Now = time.Now })
	f.h.o.Apps().Apps()[0].OriginTimeout = 150 * time.Millisecond
	f.addSession(nonceA, time.Now().Add(-time.Minute), time.Hour)
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
	front := httptest.NewServer(f.h)
	defer front.Close()
	get := func(path string, json bool) (*http.Response, string, time.Duration) {
		req, _ := http.NewRequest("GET", front.URL+path, nil)
		req.Host = "app.example.com"
		req.AddCookie(&http.Cookie{Name: access.CookieAuthorization, Value: raw})
		if json {
			req.Header.Set("Accept", "application/json")
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b), time.Since(start)
	}
	resp, body, took := get("/hang", false)
	if resp.StatusCode != http.StatusGatewayTimeout || took > 5*time.Second {
		t.Fatalf("hanging origin: status %d after %v", resp.StatusCode, took)
	}
	if body == "" {
		t.Error("no timeout page")
	}
	resp, body, _ = get("/hang", true)
	var e web.ErrorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusGatewayTimeout || e.Status != http.StatusGatewayTimeout {
		t.Fatalf("JSON timeout: %d %q", resp.StatusCode, body)
	}
	resp, body, took = get("/stream", false)
	if resp.StatusCode != http.StatusOK || body != "data: late\n\n" || took < 300*time.Millisecond {
		t.Fatalf("event stream cut by the origin timeout: %d %q after %v", resp.StatusCode, body, took)
	}
}
