package ops

import (
	"io"
	"sync"
	"time"
)

// logChunk is the most LogBuffer writes at once: at most PIPE_BUF, so that
// each write to a pipe (journald, a container runtime) is atomic and lines
// of other writers never land inside one.
const logChunk = 4096

// logDelay is how long a buffered line may wait for the next ones.
const logDelay = 25 * time.Millisecond

// LogBuffer batches the process log's lines into fewer writes: a busy
// access log otherwise costs one write system call per request. Lines wait
// at most logDelay; a logger made by NewLogger over a LogBuffer writes its
// warnings and errors out at once, with everything before them. Call
// Flush before the process exits. Safe for concurrent use.
type LogBuffer struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	armed bool // a flush is scheduled
}

// NewLogBuffer returns a LogBuffer writing to w.
func NewLogBuffer(w io.Writer) *LogBuffer {
	return &LogBuffer{w: w, buf: make([]byte, 0, logChunk)}
}

// Write buffers p (one log line, as slog handlers write them).
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logChunk {
		b.flushLocked()
	}
	if len(p) >= logChunk {
		_, err := b.w.Write(p)
		return len(p), err
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		b.armed = true
		time.AfterFunc(logDelay, b.Flush)
	}
	return len(p), nil
}

// Flush writes out the buffered lines.
func (b *LogBuffer) Flush() {
	b.mu.Lock()
	b.flushLocked()
	b.armed = false
	b.mu.Unlock()
}

func (b *LogBuffer) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	_, _ = b.w.Write(b.buf) // the log has nowhere to report its own failure
	b.buf = b.buf[:0]
}
