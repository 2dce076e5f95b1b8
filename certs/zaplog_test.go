package certs

import (
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// TestZapToSlog: certmagic's zap logs reach the slog handler with their
// level, the logger name and every field, sorted by key; levels the
// handler drops are not written.
func TestZapToSlog(t *testing.T) {
	logs := &syncBuffer{}
	h := slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	zl := zap.New(&slogCore{h: h}).Named("acme").With(zap.String("z", "last"))
	zl.Debug("hidden")
	zl.Info("served key authentication", zap.String("challenge", "http-01"), zap.Int("attempt", 2))
	zl.Warn("careful")
	zl.Error("failed", zap.Error(errTest))
	want := []string{
		`level=INFO msg="served key authentication" logger=acme attempt=2 challenge=http-01 z=last`,
		`level=WARN msg=careful logger=acme z=last`,
		`level=ERROR msg=failed logger=acme error=boom z=last`,
	}
	got := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("boom")
