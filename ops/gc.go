package ops

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// A proxy's live heap is small (a few MB, unless it holds many sessions
// or revocations) while it allocates fast (~10 KB a request), so Go's
// default (collect when the heap has grown by 100 % of the live heap)
// collects many times a second under load, and the collector's work is a
// large share of the CPU a request costs. serve therefore lets the heap
// grow by GCPercent % of the live heap, but never by more than GCHeadroom:
// a soft memory limit of the live heap plus GCHeadroom, raised after each
// collection. A small heap is collected a fifth as often; a large one is
// held within GCHeadroom of what it keeps alive. Setting GOGC or
// GOMEMLIMIT in the environment leaves the runtime's own settings alone.
const (
	GCPercent  = 400
	GCHeadroom = 48 << 20
)

// GCTuning is the collector's tuning applied by TuneGC.
type GCTuning struct {
	mu       sync.Mutex // orders update and Stop: no update lands after Stop
	stopped  atomic.Bool
	percent  int   // GOGC before
	limit    int64 // GOMEMLIMIT before
	lastSet  atomic.Int64
	headroom int64
}

// gcSample are the runtime metrics the tuning reads after a collection.
var gcSample = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
}

// TuneGC applies the tuning described above unless GOGC or GOMEMLIMIT is
// set; it returns nil then. Stop undoes it.
func TuneGC(log *slog.Logger) *GCTuning {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		log.Info("garbage collector: GOGC or GOMEMLIMIT is set; Gatehouse leaves the collector's settings alone")
		return nil
	}
	t := &GCTuning{headroom: GCHeadroom}
	t.percent = debug.SetGCPercent(GCPercent)
	t.limit = debug.SetMemoryLimit(-1)
	t.update()
	t.arm()
	log.Debug("garbage collector tuned", "gogc", GCPercent, "headroom_mb", GCHeadroom>>20, "memory_limit_mb", t.MemoryLimit()>>20)
	return t
}

// MemoryLimit is the soft memory limit the tuning last set, in bytes.
func (t *GCTuning) MemoryLimit() int64 { return t.lastSet.Load() }

// Stop restores the settings TuneGC found.
func (t *GCTuning) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(t.percent)
	debug.SetMemoryLimit(t.limit)
}

// update sets the memory limit to what the runtime uses besides the heap,
// plus the live heap, plus the headroom.
func (t *GCTuning) update() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped.Load() {
		return
	}
	s := make([]metrics.Sample, len(gcSample))
	copy(s, gcSample)
	metrics.Read(s)
	v := func(i int) int64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		u := s[i].Value.Uint64()
		if u > math.MaxInt64/4 {
			return math.MaxInt64 / 4
		}
		return int64(u)
	}
	live, total := v(0), v(1)
	heap := v(2) + v(3) + v(4) + v(5)
	limit := max(total-heap, 0) + live + t.headroom
	debug.SetMemoryLimit(limit)
	t.lastSet.Store(limit)
}

// gcSentinel is garbage made to be collected: its cleanup runs after the
// collection that found it, updates the limit and makes the next one.
type gcSentinel struct{ _ [32]byte } // not tiny: collected on its own

func (t *GCTuning) arm() {
	runtime.AddCleanup(new(gcSentinel), func(t *GCTuning) {
		if t.stopped.Load() {
			return
		}
		t.update()
		t.arm()
	}, t)
}
