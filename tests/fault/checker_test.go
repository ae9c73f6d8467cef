package fault

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestCheckersCatchInjectedFaults records a real history (three clients on
// one member, no fault), checks that every checker passes it, then injects
// one fault at a time into a copy and checks that the checker meant to see
// it fails: a checker that cannot fail would prove nothing about the suite.
func TestCheckersCatchInjectedFaults(t *testing.T) {
	e := newEnv(t, 1, loadConfig{clients: 3, procsPerClient: 1, keys: 3, ops: 150})
	e.startLoad()
	r := e.collect()
	t.Logf("recorded %v and %d watch events", statsOf(r.history), len(r.events))

	t.Run("recorded history passes", func(t *testing.T) {
		if err := checkLinearizable(r.history, "", ""); err != nil {
			t.Error(err)
		}
		if err := checkRevisionOrder(r.history); err != nil {
			t.Error(err)
		}
		if err := checkReadRevisions(r.history); err != nil {
			t.Error(err)
		}
		if err := checkWatch(r.events, r.startRev, r.endRev, r.history); err != nil {
			t.Error(err)
		}
		if err := checkFinalState(r.events, r.final, r.history); err != nil {
			t.Error(err)
		}
		if _, err := checkNoLostWrites(context.Background(), e.check, r.history); err != nil {
			t.Error(err)
		}
	})

	// A stale read: a get, made after a newer write of its key was
	// acknowledged, returns the value of the write before it.
	older, newer := sequentialWrites(t, r.history)
	stale := porcupine.Operation{
		ClientId: 99,
		Input:    kvInput{Kind: opGet, Key: older.Input.(kvInput).Key},
		Call:     newer.Return + 1,
		Return:   newer.Return + 2,
	}
	staleOut := kvOutput{Exists: true, Value: older.Input.(kvInput).Value, ModRev: older.Output.(kvOutput).Rev}

	t.Run("stale read fails linearizability", func(t *testing.T) {
		// The revision is the newest one, so that only the model can tell.
		op := stale
		out := staleOut
		out.Rev = newer.Output.(kvOutput).Rev
		op.Output = out
		h := insertOp(r.history, op)
		if porcupine.CheckOperations(kvModel, h) {
			t.Fatalf("porcupine accepted a history with a stale read: %s after %s",
				kvModel.DescribeOperation(op.Input, op.Output), kvModel.DescribeOperation(newer.Input, newer.Output))
		}
		err := checkLinearizable(h, "", "")
		if err == nil || !strings.Contains(err.Error(), op.Input.(kvInput).Key) {
			t.Fatalf("checkLinearizable = %v, want an error naming %s", err, op.Input.(kvInput).Key)
		}
		t.Logf("caught: %v", err)
	})

	t.Run("stale read fails revision order", func(t *testing.T) {
		op := stale
		out := staleOut
		out.Rev = older.Output.(kvOutput).Rev // what a stale member would say
		op.Output = out
		err := checkRevisionOrder(insertOp(r.history, op))
		if err == nil {
			t.Fatal("checkRevisionOrder accepted a read of an old revision after a newer write ended")
		}
		t.Logf("caught: %v", err)
	})

	t.Run("wrong read revision", func(t *testing.T) {
		op := stale
		out := staleOut
		out.Value = newer.Input.(kvInput).Value // the right value with the older revision
		out.Rev = newer.Output.(kvOutput).Rev
		op.Output = out
		if err := checkReadRevisions(insertOp(r.history, op)); err == nil {
			t.Fatal("checkReadRevisions accepted a read naming the wrong revision of a write")
		}
	})

	t.Run("lost write", func(t *testing.T) {
		// An acknowledged put the store does not have at its revision.
		lost := newer
		in := lost.Input.(kvInput)
		in.Kind, in.Value = opPut, "never-written"
		lost.Input = in
		h := append(slices.Clone(r.history), lost)
		if _, err := checkNoLostWrites(context.Background(), e.check, h); err == nil {
			t.Fatal("checkNoLostWrites accepted an acknowledged write missing from the store")
		}
	})

	// Watch faults, each on a copy of the real stream. mid is a put event
	// in the middle of the stream.
	if len(r.events) < 10 {
		t.Fatalf("only %d watch events recorded", len(r.events))
	}
	mid := len(r.events) / 2
	for r.events[mid].Del {
		mid++
	}
	other := 1
	for r.events[other].Del || r.events[other].Value == r.events[mid].Value {
		other++
	}
	watchCases := []struct {
		name   string
		mutate func([]watchEvent) []watchEvent
	}{
		{"duplicate", func(ev []watchEvent) []watchEvent { return slices.Insert(ev, mid+1, ev[mid]) }},
		{"gap", func(ev []watchEvent) []watchEvent { return slices.Delete(ev, mid, mid+1) }},
		{"reorder", func(ev []watchEvent) []watchEvent { ev[mid], ev[mid+1] = ev[mid+1], ev[mid]; return ev }},
		{"replay after resume", func(ev []watchEvent) []watchEvent { return append(ev, ev[:3]...) }},
		{"missing tail", func(ev []watchEvent) []watchEvent { return ev[:len(ev)-1] }},
		{"missing head", func(ev []watchEvent) []watchEvent { return ev[1:] }},
		{"wrong value", func(ev []watchEvent) []watchEvent { ev[mid].Value = ev[other].Value; return ev }},
		{"phantom value", func(ev []watchEvent) []watchEvent { ev[mid].Value = "never-written"; return ev }},
		{"wrong key", func(ev []watchEvent) []watchEvent { ev[mid].Key += "x"; return ev }},
		{"put as delete", func(ev []watchEvent) []watchEvent { ev[mid].Del, ev[mid].Value = true, ""; return ev }},
	}
	for _, tc := range watchCases {
		t.Run("watch "+tc.name, func(t *testing.T) {
			events := tc.mutate(slices.Clone(r.events))
			err := checkWatch(events, r.startRev, r.endRev, r.history)
			if err == nil {
				t.Fatal("checkWatch accepted the stream")
			}
			t.Logf("caught: %v", strings.ReplaceAll(err.Error(), "\n", "; "))
		})
	}
}

// sequentialWrites returns two acknowledged puts of one key, the second
// called after the first returned, with no other acknowledged write of the
// key between their revisions.
func sequentialWrites(t *testing.T, history []porcupine.Operation) (older, newer porcupine.Operation) {
	t.Helper()
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if mutates(in, out) {
			byKey[in.Key] = append(byKey[in.Key], op)
		}
	}
	for _, ops := range byKey {
		slices.SortFunc(ops, func(a, b porcupine.Operation) int {
			return int(a.Output.(kvOutput).Rev - b.Output.(kvOutput).Rev)
		})
		for i := 1; i < len(ops); i++ {
			a, b := ops[i-1], ops[i]
			if a.Input.(kvInput).Kind != opDelete && b.Input.(kvInput).Kind != opDelete && a.Return < b.Call {
				return a, b
			}
		}
	}
	t.Fatal("the recorded history has no two sequential writes of one key")
	return
}

// insertOp returns a copy of history with op added.
func insertOp(history []porcupine.Operation, op porcupine.Operation) []porcupine.Operation {
	return append(slices.Clone(history), op)
}
