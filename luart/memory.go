package luart

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// ErrMemoryLimit is the cause a run is stopped with when it goes over its
// memory budget: errors.Is(err, ErrMemoryLimit) holds for the context
// cause, the error object's Cause and the engine's ScriptError.
var ErrMemoryLimit = errors.New("memory limit exceeded")

// MemoryError says by how much a run went over its budget. It matches
// ErrMemoryLimit with errors.Is.
type MemoryError struct {
	// Budget is the run's budget in bytes.
	Budget int64
	// Used is what the run was charged when it was stopped, in bytes; for a
	// refused request, what it held plus the request.
	Used int64
	// Op is the function that refused the request, if a function did.
	Op string
	// What names the request that was refused (such as "a string of
	// 8GiB"), or is empty when the heap sampler stopped the run.
	What string
}

// Error returns the message, after the function that refused ("op: ").
func (e *MemoryError) Error() string {
	if e.Op != "" {
		return e.Op + ": " + e.Message()
	}
	return e.Message()
}

// Message returns the message without the function.
func (e *MemoryError) Message() string {
	if e.Budget <= 0 {
		return "memory limit: " + e.What
	}
	if e.What != "" {
		return fmt.Sprintf("memory limit: %s would take the run over its budget of %s", e.What, FormatSize(e.Budget))
	}
	return fmt.Sprintf("memory limit: the run grew the heap by %s, over its budget of %s", FormatSize(e.Used), FormatSize(e.Budget))
}

// Is makes errors.Is(e, ErrMemoryLimit) hold.
func (e *MemoryError) Is(target error) bool { return target == ErrMemoryLimit }

// FormatSize writes a byte count the way --max-memory reads it: 256MiB,
// 1.5GiB, 512B.
func FormatSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d%s", int64(f), units[i])
	}
	return fmt.Sprintf("%.1f%s", f, units[i])
}

// Budget is the memory budget of one run. gopher-lua has no allocator
// hook, so a budget is enforced two ways: built-ins that allocate in
// proportion to an argument ask Reserve before they allocate, and a
// process-wide sampler compares the heap's growth since the run started
// against the budget and stops the run through its stop function when it
// is over. Every growth of the process heap while the run is live counts
// against it, whoever allocated; see the engine's documentation for what
// this means for runs that share a process.
type Budget struct {
	limit int64
	stop  func(error)
	// base is the live heap when the run started, lowered whenever a
	// later collection finds less live (rebase).
	base atomic.Int64
	seq  uint64 // start order: the youngest run over its budget goes first

	stopped atomic.Bool
}

// sampleInterval is how often the sampler reads the heap. Reading one
// runtime/metrics value costs about a microsecond and stops nothing, so
// this costs nothing measurable; it bounds how far a run can grow past its
// budget between two looks.
const sampleInterval = 10 * time.Millisecond

// gcInterval bounds how often the sampler forces a collection to tell
// garbage from live data before it stops a run; a full collection costs
// in proportion to the live heap.
const gcInterval = 100 * time.Millisecond

// victimGrace is how long the sampler waits for a stopped run to end (and
// its memory to become garbage) before it looks at the other runs again.
const victimGrace = time.Second

// monitor is the process-wide heap sampler: one goroutine, running while
// at least one run with a budget is live.
var monitor struct {
	mu      sync.Mutex
	runs    map[*Budget]struct{}
	seq     uint64
	running bool
	victim  *Budget // stopped, not yet ended
	stopAt  time.Time
	needGC  bool
	lastGC  time.Time

	heap atomic.Int64 // the last sample of the heap, in bytes
	live atomic.Int64 // the heap the last collection found live
}

// readHeap returns the bytes of heap objects (live ones and garbage not
// yet swept) and the bytes the last collection found live.
func readHeap() (heap, live int64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		heap = int64(s[0].Value.Uint64())
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		live = int64(s[1].Value.Uint64())
	}
	return heap, live
}

// store records a sample.
func store(heap, live int64) {
	monitor.heap.Store(heap)
	monitor.live.Store(live)
}

// StartBudget starts the budget of a run: limit bytes of heap growth from
// now on. stop is called (once, from another goroutine) with a
// *MemoryError when the run goes over; it should cancel the run's context
// with that cause. End must be called when the run is over.
func StartBudget(limit int64, stop func(error)) *Budget {
	h, live := readHeap()
	monitor.mu.Lock()
	defer monitor.mu.Unlock()
	monitor.seq++
	// The base is the live heap, not the heap: garbage other code left
	// behind would otherwise add to the run's budget once collected.
	base := h
	if live > 0 && live < h {
		base = live
	}
	b := &Budget{limit: limit, stop: stop, seq: monitor.seq}
	b.base.Store(base)
	if monitor.runs == nil {
		monitor.runs = map[*Budget]struct{}{}
	}
	monitor.runs[b] = struct{}{}
	store(h, live)
	if !monitor.running {
		monitor.running = true
		go sample()
	}
	return b
}

// End unregisters the budget; the sampler stops when no run is left.
func (b *Budget) End() {
	if b == nil {
		return
	}
	monitor.mu.Lock()
	defer monitor.mu.Unlock()
	delete(monitor.runs, b)
	if monitor.victim == b {
		monitor.victim = nil
		monitor.needGC = true
	}
}

// Limit returns the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used returns the heap growth charged to the run at the last sample.
func (b *Budget) Used() int64 { return max(monitor.heap.Load()-b.base.Load(), 0) }

// Reserve checks a request of op for n more bytes, made before allocating
// them. When the run's live charge plus n is over the budget, it stops the
// run and returns the *MemoryError; what names the request in the message.
// The live charge is what the last collection found live beyond the heap
// at the run's start: garbage does not make a request fail (the sampler
// sees what it misses).
func (b *Budget) Reserve(n int64, op, what string) error {
	if b == nil {
		return nil
	}
	used := max(monitor.live.Load()-b.base.Load(), 0)
	if n <= b.limit-used {
		return nil
	}
	monitor.mu.Lock()
	if n <= b.limit && (n < b.limit/16 || monitor.victim != nil) {
		// A request that fits the budget alone, made when the charge
		// (which counts every run's growth) is over: small, or while
		// another run's memory is being freed, it is left to the
		// sampler, which stops the youngest run over, not the one that
		// happens to ask.
		monitor.mu.Unlock()
		return nil
	}
	b.markVictim()
	monitor.mu.Unlock()
	err := &MemoryError{Budget: b.limit, Used: used + n, Op: op, What: what}
	b.exceed(err)
	return err
}

// markVictim makes b the run the sampler waits for: until it has ended,
// its memory is not garbage, and judging the other runs would charge it
// to them. monitor.mu is held.
func (b *Budget) markVictim() {
	if _, live := monitor.runs[b]; live && !b.stopped.Load() {
		monitor.victim, monitor.stopAt = b, time.Now()
	}
}

func (b *Budget) exceed(err error) {
	if b.stopped.CompareAndSwap(false, true) {
		b.stop(err)
	}
}

// sample is the sampler's goroutine.
func sample() {
	t := time.NewTicker(sampleInterval)
	defer t.Stop()
	for range t.C {
		if !sampleOnce() {
			return
		}
	}
}

// sampleOnce takes one sample and stops at most one run; it returns false,
// and marks the sampler stopped, when no run is left.
func sampleOnce() bool {
	h, live := readHeap()
	store(h, live)
	monitor.mu.Lock()
	rebase(live)
	if len(monitor.runs) == 0 {
		monitor.running = false
		monitor.victim = nil
		monitor.mu.Unlock()
		return false
	}
	if v := monitor.victim; v != nil {
		if time.Since(monitor.stopAt) < victimGrace {
			// Its memory is not garbage until it has ended: judging
			// the others now would charge it to them.
			monitor.mu.Unlock()
			return true
		}
		monitor.victim = nil
	}
	if overBudget(h) == nil {
		monitor.mu.Unlock()
		return true
	}
	// Over by what the last collection found live: over for certain, no
	// collection needed (a forced one may wait long for a goroutine deep
	// in a huge copy), unless a stopped run has ended since, whose memory
	// that collection still saw live.
	if v := overBudget(live); v != nil && !monitor.needGC {
		v.markVictim()
		monitor.mu.Unlock()
		v.exceed(&MemoryError{Budget: v.limit, Used: live - v.base.Load()})
		return true
	}
	gc := monitor.needGC || time.Since(monitor.lastGC) >= gcInterval
	monitor.mu.Unlock()
	if !gc {
		return true
	}
	// Garbage counts in the sample: collect it before stopping anyone.
	runtime.GC()
	h, live = readHeap()
	store(h, live)
	monitor.mu.Lock()
	defer monitor.mu.Unlock()
	rebase(live)
	monitor.lastGC, monitor.needGC = time.Now(), false
	if v := overBudget(h); v != nil {
		v.markVictim()
		v.exceed(&MemoryError{Budget: v.limit, Used: h - v.base.Load()})
	}
	return true
}

// rebase lowers the base of every run to the live heap a collection
// found, when that is lower: what was live when a run started (the data of
// a run that ended just before, say) and has been freed since is no credit
// for the run to grow into. monitor.mu is held.
func rebase(live int64) {
	if live <= 0 {
		return
	}
	for b := range monitor.runs {
		if live < b.base.Load() {
			b.base.Store(live)
		}
	}
}

// overBudget returns the run to stop when some run's charge is over its
// budget, or nil. It is the youngest run charged at least half its
// budget, not necessarily the one over: the heap's growth is charged to
// every run live while it happened, so an older run is charged all a
// younger one allocated, and the youngest that has seen most of the
// growth is the likeliest cause (long-lived runs are also the ones a host
// least wants to lose). Once it has ended, the others are judged again.
// monitor.mu is held.
func overBudget(h int64) *Budget {
	over := false
	var v *Budget
	for b := range monitor.runs {
		if b.stopped.Load() {
			continue
		}
		charge := h - b.base.Load()
		over = over || charge > b.limit
		if charge >= b.limit/2 && (v == nil || b.seq > v.seq) {
			v = b
		}
	}
	if !over {
		return nil
	}
	return v
}
