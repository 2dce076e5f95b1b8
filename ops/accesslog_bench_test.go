package ops

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkAccessLogWrite measures one access line through the process
// logger (its own formatter), in each format, and through a plain slog
// text handler for comparison.
func BenchmarkAccessLogWrite(b *testing.B) {
	r := httptest.NewRequest("GET", "http://app.example.com/dashboard?tab=1", nil)
	req := Request{App: "demo", Decision: "allow", User: "ann@example.com", Status: 200, Duration: 1234 * time.Microsecond}
	for _, tc := range []struct {
		name string
		log  *slog.Logger
	}{
		{"text", NewLogger(NewLogBuffer(io.Discard), "info", "text")},
		{"json", NewLogger(NewLogBuffer(io.Discard), "info", "json")},
		{"slog_text", slog.New(slog.NewTextHandler(io.Discard, nil))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := NewAccessLog(tc.log, true)
			b.ReportAllocs()
			for b.Loop() {
				l.Write(r, req)
			}
		})
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
