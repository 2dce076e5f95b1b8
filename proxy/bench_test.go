package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkAuthorize measures an allowed request with a valid cookie to an
// app whose origin is an in-process no-op handler.
func BenchmarkAuthorize(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f := newFixture(b, OriginWhoami, func(o *Options) {
		o.Whoami = noop
		o.Now = time.Now
	})
	raw := appToken(b, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
	req := httptest.NewRequest("GET", "http://app.example.com/dashboard?tab=1", nil)
	req.Header.Set("Cookie", "theme=dark; "+CookieAuthorization+"="+raw)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", "bench")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.status = 0
		f.h.ServeHTTP(w, req)
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(s int)           { d.status = s }
