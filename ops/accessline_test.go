package ops

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAccessLineMatchesSlog checks that the hand-formatted access line is
// byte for byte what slog's handlers write for the same record, in both
// formats, for values that need quoting or escaping.
func TestAccessLineMatchesSlog(t *testing.T) {
	odd := []string{
		"", "plain", "ann@example.com", "with space", "a=b", `quo"te`, `back\slash`, "tab\there", "new\nline",
		"cr\rhere", "\x00nul\x1f", "\x7fdel", "caf\u00e9", "\u2028sep\u2029", "bad\xffutf8", "\u00a0nbsp", "\u200bzw",
		"<html>&amp;", "/path/with%20escape", "日本語", "emoji \U0001F600", "trailing\\",
	}
	times := []time.Time{
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", -(5*3600+30*60))),
		time.Now(),
	}
	durations := []time.Duration{0, 1, 999, 1500 * time.Microsecond, time.Second, 90 * time.Minute, 1234567891, -time.Millisecond}
	i := 0
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			for _, s := range odd {
				for _, tm := range times {
					d := durations[i%len(durations)]
					i++
					f := accessFields{requestID: s, host: "app.example.com", method: s, path: s, app: "demo", user: s,
						decision: "allow", status: 200 + i, duration: d}
					want := slogLine(t, format, tm, &f)
					got := string(appendAccessLine(nil, tm, &f, format == "json"))
					if got != want {
						t.Errorf("value %q at %v:\n got %q\nwant %q", s, tm, got, want)
					}
				}
			}
		})
	}
}

// slogLine is the access line slog's handler of format writes for f at tm.
func slogLine(t *testing.T, format string, tm time.Time, f *accessFields) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if format == "json" {
		h = slog.NewJSONHandler(&buf, nil)
	}
	r := slog.NewRecord(tm, slog.LevelInfo, "access", 0)
	r.AddAttrs(
		slog.String("request_id", f.requestID), slog.String("host", f.host), slog.String("method", f.method),
		slog.String("path", f.path), slog.String("app", f.app), slog.String("user", f.user),
		slog.String("decision", f.decision), slog.Int("status", f.status), slog.Duration("duration", f.duration),
	)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAccessLogProcessLogger checks the access log over NewLogger: one
// line per request in the configured format, none when the level is above
// info or the log is off, and other records still written beside it.
func TestAccessLogProcessLogger(t *testing.T) {
	hr := httptest.NewRequest("GET", "http://app.example.com/x?token=secret", nil)
	req := Request{App: "demo", Decision: "allow", User: "ann@example.com", Status: 200, Duration: 1500 * time.Microsecond}
	for _, tc := range []struct {
		name, level, format string
		want                []string // substrings of the output, "" for none
	}{
		{"text", "info", "text", []string{" level=INFO msg=access request_id=\"\" host=app.example.com method=GET path=/x app=demo user=ann@example.com decision=allow status=200 duration=1.5ms\n", "msg=other"}},
		{"json", "info", "json", []string{`"level":"INFO","msg":"access","request_id":"","host":"app.example.com","method":"GET","path":"/x","app":"demo","user":"ann@example.com","decision":"allow","status":200,"duration":1500000}` + "\n", `"msg":"other"`}},
		{"warn", "warn", "text", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, buffered := range []bool{false, true} {
				var out bytes.Buffer
				var lb *LogBuffer
				log := NewLogger(&out, tc.level, tc.format)
				if buffered {
					lb = NewLogBuffer(&out)
					log = NewLogger(lb, tc.level, tc.format)
				}
				l := NewAccessLog(log, true)
				if l.fast == nil {
					t.Fatal("the access log does not format its lines over the process logger")
				}
				l.Write(hr, req)
				log.Info("other")
				l.SetOn(false)
				l.Write(hr, req)
				if lb != nil {
					lb.Flush()
				}
				got := out.String()
				if tc.want == nil && got != "" {
					t.Errorf("level %s wrote %q", tc.level, got)
				}
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						t.Errorf("buffered %v: output %q lacks %q", buffered, got, w)
					}
				}
				if n := strings.Count(got, "access"); tc.want != nil && n != 1 {
					t.Errorf("buffered %v: %d access lines, want 1 (the log was off for the second): %q", buffered, n, got)
				}
				if strings.Contains(got, "secret") {
					t.Errorf("the access line leaks the query: %q", got)
				}
			}
		})
	}
}

// TestAccessLogDerivedLogger checks that over a logger derived with With
// the access log keeps the derived attributes (a slog record).
func TestAccessLogDerivedLogger(t *testing.T) {
	var out bytes.Buffer
	l := NewAccessLog(NewLogger(&out, "info", "text").With("k", "v"), true)
	l.Write(httptest.NewRequest("GET", "http://app.example.com/x", nil), Request{App: "demo", Status: 200})
	if got := out.String(); !strings.Contains(got, "msg=access k=v request_id=") {
		t.Errorf("derived logger: %q", got)
	}
}
