package ops

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingWriter keeps every write it gets.
type recordingWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recordingWriter) all() (string, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	most := 0
	for _, w := range r.writes {
		b.Write(w)
		most = max(most, len(w))
	}
	return b.String(), len(r.writes), most
}

func TestLogBuffer(t *testing.T) {
	t.Run("info lines are batched and written within the delay", func(t *testing.T) {
		out := &recordingWriter{}
		log := NewLogger(NewLogBuffer(out), "info", "text")
		for i := range 200 {
			log.Info("access", "n", i)
		}
		if got, _, _ := out.all(); strings.Count(got, "\n") == 200 {
			t.Fatal("every line was written at once: nothing was buffered")
		}
		time.Sleep(4 * logDelay)
		got, writes, most := out.all()
		if n := strings.Count(got, "msg=access"); n != 200 {
			t.Fatalf("%d of 200 lines written after the delay", n)
		}
		if writes >= 200 || most > logChunk {
			t.Fatalf("%d writes, the largest %d bytes: want fewer than one per line, none above %d", writes, most, logChunk)
		}
		if i, j := strings.Index(got, "n=0\n"), strings.Index(got, "n=199\n"); i < 0 || i > j {
			t.Fatal("lines out of order")
		}
	})
	t.Run("a warning is written at once with what came before", func(t *testing.T) {
		out := &recordingWriter{}
		log := NewLogger(NewLogBuffer(out), "info", "json")
		log.Info("before")
		log.Warn("trouble")
		got, _, _ := out.all()
		if !strings.Contains(got, `"msg":"before"`) || !strings.Contains(got, `"msg":"trouble"`) {
			t.Fatalf("after a warning the log holds %q", got)
		}
	})
	t.Run("Flush writes out everything", func(t *testing.T) {
		out := &recordingWriter{}
		b := NewLogBuffer(out)
		log := NewLogger(b, "info", "text").With("k", "v")
		log.Info("last words")
		b.Flush()
		if got, _, _ := out.all(); !strings.Contains(got, "last words") || !strings.Contains(got, "k=v") {
			t.Fatalf("after Flush the log holds %q", got)
		}
	})
}
