package luart_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/luart"
)

// sink keeps test allocations live where the compiler cannot see it.
var sink [][]byte

// TestBudgetFreedBeforeIsNoCredit: what was live when a run started (the
// data of a run that ended just before, say) and is freed afterwards gives
// the run no room to grow into: its budget counts from the lower live heap
// a later collection finds. (A run started after a large run's data was
// still live used to be stopped only once it had grown by that data plus
// its budget.)
func TestBudgetFreedBeforeIsNoCredit(t *testing.T) {
	const budget = 16 << 20
	sink = [][]byte{make([]byte, 96<<20)}
	runtime.GC() // the 96 MiB is in the live heap the run starts from
	stopped := make(chan error, 1)
	b := luart.StartBudget(budget, func(err error) { stopped <- err })
	defer b.End()
	sink = nil
	runtime.GC() // ... and freed: the run must not grow into it

	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-stopped:
			t.Logf("stopped: %v", err)
			sink = nil
			return
		case <-deadline:
			sink = nil
			t.Fatalf("a run that grew %d MiB, four times its budget, was not stopped", 4*budget>>20)
		case <-time.After(20 * time.Millisecond):
			if len(sink) < 4*budget>>20 {
				sink = append(sink, make([]byte, 1<<20))
			}
		}
	}
}
