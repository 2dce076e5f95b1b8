package ops

import (
	"io"
	"log/slog"
)

// NewLogger builds the process logger writing to w: level is "debug",
// "info", "warn" or "error" (anything else is info), format "json" or text
// (anything else). Over a LogBuffer, records at warn and above are written
// out at once.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if b, ok := w.(*LogBuffer); ok {
		h = flushingHandler{h, b}
	}
	return slog.New(h)
}
