package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
	}
	for _, tt := range tests {
		log := NewLogger(&bytes.Buffer{}, tt.level, "text")
		if !log.Enabled(context.Background(), tt.want) || log.Enabled(context.Background(), tt.want-1) {
			t.Errorf("level %q: not enabled exactly from %v", tt.level, tt.want)
		}
	}

	var buf bytes.Buffer
	NewLogger(&buf, "info", "json").Info("hello", "k", "v")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "hello" || line["k"] != "v" {
		t.Errorf("json format wrote %q (%v)", buf.String(), err)
	}
	buf.Reset()
	NewLogger(&buf, "info", "text").Info("hello", "k", "v")
	if s := buf.String(); !strings.Contains(s, "msg=hello") || !strings.Contains(s, "k=v") {
		t.Errorf("text format wrote %q", s)
	}
}
