package ops

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestTuneGC: the tuning raises GOGC and sets a memory limit of the live
// heap plus the headroom, which follows the live heap after each
// collection; Stop restores the settings. With GOGC or GOMEMLIMIT set it
// changes nothing.
func TestTuneGC(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	before := gcPercent()
	limitBefore := debug.SetMemoryLimit(-1)
	runtime.GC() // the live heap as it is now, not as an earlier test left it

	t.Run("tunes and follows the live heap", func(t *testing.T) {
		g := TuneGC(log)
		if g == nil {
			t.Fatal("TuneGC did nothing without GOGC and GOMEMLIMIT")
		}
		defer g.Stop()
		if p := gcPercent(); p != GCPercent {
			t.Errorf("GOGC = %d, want %d", p, GCPercent)
		}
		first := g.MemoryLimit()
		if first < GCHeadroom || first != debug.SetMemoryLimit(-1) {
			t.Fatalf("memory limit %d (runtime %d), want at least the headroom %d", first, debug.SetMemoryLimit(-1), GCHeadroom)
		}
		keep := make([][]byte, 0, 64) // 64 MiB more live heap
		for range 64 {
			keep = append(keep, make([]byte, 1<<20))
		}
		var raised int64
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			runtime.GC()
			if raised = g.MemoryLimit(); raised >= first+60<<20 {
				break
			}
		}
		runtime.KeepAlive(keep)
		if raised < first+60<<20 {
			t.Errorf("memory limit %d MiB after 64 MiB more live heap, was %d MiB: not raised after the collection", raised>>20, first>>20)
		}
	})
	if p := gcPercent(); p != before {
		t.Errorf("after Stop GOGC = %d, want %d", p, before)
	}
	if l := debug.SetMemoryLimit(-1); l != limitBefore {
		t.Errorf("after Stop the memory limit = %d, want %d", l, limitBefore)
	}

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env+" set", func(t *testing.T) {
			t.Setenv(env, map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}[env])
			if g := TuneGC(log); g != nil {
				g.Stop()
				t.Fatalf("TuneGC tuned with %s set", env)
			}
			if p := gcPercent(); p != before {
				t.Errorf("GOGC = %d, want it left at %d", p, before)
			}
		})
	}
}

// gcPercent reads GOGC's current value (setting it back at once).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
