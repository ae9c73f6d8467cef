package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// fault is one kind of trouble: inject starts it and returns what ends it.
type fault struct {
	name   string
	inject func(e *env, round int) (heal func())
	// noQuorum is set when the fault leaves no quorum while it holds: no
	// write made entirely within that time can be acknowledged.
	noQuorum bool
	// hold, when set, replaces defaultHold.
	hold time.Duration
}

// defaultHold is how long a fault lasts while the load runs.
const defaultHold = 1500 * time.Millisecond

// round applies one fault during the load, ends it and verifies that the
// cluster, the watch, the lease and the reads are well again.
func (e *env) round(f fault) {
	t := e.t
	t.Helper()
	e.rounds++
	n := e.rounds
	before := len(e.rec.snapshot())
	began := time.Now()
	e.maxLag.Store(0)
	time.Sleep(300 * time.Millisecond)
	heal := f.inject(e, n)
	from := e.rec.now()
	hold := defaultHold
	if f.hold > 0 {
		hold = f.hold
	}
	time.Sleep(hold)
	to := e.rec.now()
	heal()

	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := e.waitHealthy(ctx); err != nil {
		t.Fatalf("round %d (%s): %v", n, f.name, err)
	}
	rev, err := e.fence(ctx)
	if err != nil {
		t.Fatalf("round %d (%s): %v", n, f.name, err)
	}
	if err := e.watch.waitRev(ctx, rev); err != nil {
		t.Fatalf("round %d (%s): watch did not reach the fence revision %d: %v", n, f.name, rev, err)
	}
	e.checkLease(ctx, fmt.Sprintf("round %d (%s)", n, f.name))
	if errs := e.readFailures(); len(errs) > 0 {
		t.Errorf("round %d (%s): %d reads failed while a quorum ran, first: %s", n, f.name, len(errs), errs[0])
	}
	ops := e.rec.snapshot()[before:]
	if f.noQuorum {
		for _, op := range ops {
			in, out := op.Input.(kvInput), op.Output.(kvOutput)
			if mutates(in, out) && op.Call >= from && op.Return <= to {
				t.Errorf("round %d (%s): %s acknowledged while no quorum ran", n, f.name, kvModel.DescribeOperation(in, out))
			}
		}
	}
	last, restarts := e.watch.state()
	t.Logf("round %2d %-28s %5d ops (%s), watch at rev %d (%d re-watches), %v (process starved up to %v)",
		n, f.name, len(ops), outcomes(ops, from, to), last, restarts, time.Since(began).Round(10*time.Millisecond),
		time.Duration(e.maxLag.Load()).Round(time.Millisecond))
}

// outcomes summarizes the operations of a round for its log line: how many
// had an unknown outcome, and how many were made and succeeded entirely
// while the fault held.
func outcomes(ops []porcupine.Operation, from, to int64) string {
	unknown, during, writes := 0, 0, 0
	for _, op := range ops {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if out.Unknown {
			unknown++
			continue
		}
		if op.Call >= from && op.Return <= to {
			during++
			if mutates(in, out) {
				writes++
			}
		}
	}
	return fmt.Sprintf("%d unknown; %d done during the fault, %d of them writes", unknown, during, writes)
}
