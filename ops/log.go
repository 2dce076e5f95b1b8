package ops

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// NewLogger builds the process logger writing to w: level is "debug",
// "info", "warn" or "error" (anything else is info), format "json" or text
// (anything else). Over a LogBuffer, records at warn and above are written
// out at once. An AccessLog over this logger formats its lines itself
// (accessline.go), the same bytes as the handler would write.
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
	b, _ := w.(*LogBuffer)
	out := io.Writer(b)
	if b == nil {
		// The access lines are written beside the handler's own writes:
		// one lock orders them all.
		out = &lockedWriter{w: w}
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(out, opts)
	} else {
		h = slog.NewTextHandler(out, opts)
	}
	return slog.New(&processHandler{
		flushingHandler: flushingHandler{h, b},
		out:             out,
		json:            format == "json",
		info:            l <= slog.LevelInfo,
	})
}

// processHandler is the handler of NewLogger's logger, which knows where
// and how its handler writes, so that an AccessLog can write its lines
// without a slog record. A logger derived with With or WithGroup is a
// plain flushingHandler.
type processHandler struct {
	flushingHandler
	out  io.Writer // the handler's writer: safe for concurrent use
	json bool      // JSONHandler, else TextHandler
	info bool      // records at info are logged
}

// writeAccess writes the access line of f, when records at info are
// logged.
func (h *processHandler) writeAccess(f *accessFields) {
	if !h.info {
		return
	}
	bp := lineBuffers.Get().(*[]byte)
	*bp = appendAccessLine((*bp)[:0], time.Now(), f, h.json)
	_, _ = h.out.Write(*bp) // the log has nowhere to report its own failure
	if cap(*bp) <= 4096 {
		lineBuffers.Put(bp)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// flushingHandler writes out the LogBuffer b, when there is one, after
// every record at slog.LevelWarn or above, so that a problem is never held
// back (nor lost with the process).
type flushingHandler struct {
	slog.Handler
	b *LogBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn && h.b != nil {
		h.b.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(as), h.b}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.b}
}
