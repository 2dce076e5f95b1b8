package ops

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/web"
)

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	l := NewAccessLog(slog.New(slog.NewJSONHandler(&buf, nil)), false)
	hr := httptest.NewRequest("GET", "http://app.example.com/x?token=secret", nil)
	hr.Header.Set("Cookie", "CF_Authorization=secret")
	req := Request{App: "demo", Decision: "allow", User: "ann@example.com", Status: 200, Duration: 1500 * time.Microsecond}

	l.Write(hr, req)
	if buf.Len() != 0 {
		t.Fatalf("access log off wrote %q", buf.String())
	}

	l.SetOn(true)
	web.WithRequestID(http200(func(r *http.Request) { l.Write(r, req) })).ServeHTTP(httptest.NewRecorder(), hr)
	line := buf.String()
	if strings.Contains(line, "secret") {
		t.Errorf("access line leaks the query or a cookie: %s", line)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("%v: %q", err, line)
	}
	want := map[string]any{
		"msg": "access", "host": "app.example.com", "method": "GET", "path": "/x", "app": "demo",
		"user": "ann@example.com", "decision": "allow", "status": float64(200), "duration": float64(1500 * time.Microsecond),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if id, _ := got["request_id"].(string); len(id) != 16 {
		t.Errorf("request_id = %q, want the ID WithRequestID gave", got["request_id"])
	}

	buf.Reset()
	l.SetOn(false)
	l.Write(hr, req)
	if buf.Len() != 0 {
		t.Errorf("access log turned off wrote %q", buf.String())
	}
}

// http200 is a handler that calls f with its request.
type http200 func(r *http.Request)

func (f http200) ServeHTTP(_ http.ResponseWriter, r *http.Request) { f(r) }
