package ops

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkAccessLogWrite measures one access line through the process
// logger's text handler.
func BenchmarkAccessLogWrite(b *testing.B) {
	l := NewAccessLog(NewLogger(io.Discard, "info", "text"), true)
	r := httptest.NewRequest("GET", "http://app.example.com/dashboard?tab=1", nil)
	req := Request{App: "demo", Decision: "allow", User: "ann@example.com", Status: 200, Duration: 1234 * time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		l.Write(r, req)
	}
}

// BenchmarkCountRequest measures counting one request in the metrics.
func BenchmarkCountRequest(b *testing.B) {
	m := NewMetrics(MetricsOptions{})
	req := Request{App: "demo", Decision: "allow", Status: 200, Decided: true, Authorize: 20 * time.Microsecond, Forwarded: true}
	b.ReportAllocs()
	for b.Loop() {
		m.CountRequest(req)
	}
}
