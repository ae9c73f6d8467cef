package fault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/etcdscript/etcdscript/client"
)

// opKind is the kind of a recorded operation.
type opKind uint8

const (
	opGet opKind = iota
	opPut
	opDelete
	opCAS
)

func (k opKind) String() string {
	return [...]string{"get", "put", "delete", "cas"}[k]
}

// kvInput is what an operation asked for. Every value written in a history
// is unique, which is what lets a read name the write it saw.
type kvInput struct {
	Kind  opKind
	Key   string
	Value string // put, cas: the value written
	// Expect is the value a cas compares with; "" means the key must be
	// absent (a create-revision compare), since etcd fails a value compare
	// on a missing key.
	Expect string
}

// kvOutput is what an operation returned.
type kvOutput struct {
	// Unknown is set when the call failed: a write may or may not have
	// been applied, so the checkers accept either.
	Unknown bool
	// Exists and Value are what a get read, and what a failed cas read in
	// its else branch.
	Exists bool
	Value  string
	// ModRev is the mod revision of the key a get read.
	ModRev    int64
	Deleted   int64 // delete: number of keys deleted
	Succeeded bool  // cas: the compare held and the put was applied
	// Rev is the header revision of the response: the revision of a write
	// that changed something, the store's revision otherwise.
	Rev int64
	Err string // the error of a failed call, for the logs
}

// mutates reports whether an acknowledged operation created a revision.
func mutates(in kvInput, out kvOutput) bool {
	if out.Unknown {
		return false
	}
	switch in.Kind {
	case opPut:
		return true
	case opDelete:
		return out.Deleted > 0
	case opCAS:
		return out.Succeeded
	}
	return false
}

// unknownReturn is the return time of an operation whose outcome is
// unknown: it never returns, so porcupine may place its effect anywhere
// after its call, or nowhere.
const unknownReturn = math.MaxInt64

// recorder collects the operations of a run, from any goroutine.
type recorder struct {
	base time.Time
	mu   sync.Mutex
	ops  []porcupine.Operation
}

func newRecorder() *recorder { return &recorder{base: time.Now()} }

// now is the time of an event on the history's monotonic clock.
func (r *recorder) now() int64 { return int64(time.Since(r.base)) }

// add records one operation. A failed write gets an unknown outcome; a
// failed read is left out, since it changed nothing and returned nothing.
func (r *recorder) add(proc int, in kvInput, call int64, out kvOutput, ret int64) {
	if out.Unknown {
		if in.Kind == opGet {
			return
		}
		ret = unknownReturn
	}
	r.mu.Lock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: proc, Input: in, Call: call, Output: out, Return: ret})
	r.mu.Unlock()
}

// snapshot returns a copy of the operations recorded so far.
func (r *recorder) snapshot() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// do runs one operation through kv and records it with r (unless r is nil).
func (r *recorder) do(ctx context.Context, kv client.KV, proc int, in kvInput) (kvOutput, error) {
	call := r.now()
	out, err := execOp(ctx, kv, in)
	ret := r.now()
	if err != nil {
		out = kvOutput{Unknown: true, Err: err.Error()}
	}
	r.add(proc, in, call, out, ret)
	return out, err
}

// execOp sends one operation.
func execOp(ctx context.Context, kv client.KV, in kvInput) (kvOutput, error) {
	var out kvOutput
	switch in.Kind {
	case opGet:
		resp, err := kv.Get(ctx, in.Key)
		if err != nil {
			return out, err
		}
		out.Rev = resp.Header.Revision
		if len(resp.Kvs) > 0 {
			out.Exists, out.Value, out.ModRev = true, string(resp.Kvs[0].Value), resp.Kvs[0].ModRevision
		}
	case opPut:
		resp, err := kv.Put(ctx, in.Key, in.Value)
		if err != nil {
			return out, err
		}
		out.Rev = resp.Header.Revision
	case opDelete:
		resp, err := kv.Delete(ctx, in.Key)
		if err != nil {
			return out, err
		}
		out.Rev, out.Deleted = resp.Header.Revision, resp.Deleted
	case opCAS:
		cmp := client.Compare(client.Value(in.Key), "=", in.Expect)
		if in.Expect == "" {
			cmp = client.Compare(client.CreateRevision(in.Key), "=", 0)
		}
		resp, err := kv.Txn(ctx).If(cmp).
			Then(client.OpPut(in.Key, in.Value)).
			Else(client.OpGet(in.Key)).
			Commit()
		if err != nil {
			return out, err
		}
		out.Rev, out.Succeeded = resp.Header.Revision, resp.Succeeded
		if !resp.Succeeded {
			if len(resp.Responses) != 1 || resp.Responses[0].GetResponseRange() == nil {
				return out, fmt.Errorf("cas %s: else branch answered %v", in.Key, resp.Responses)
			}
			if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
				out.Exists, out.Value, out.ModRev = true, string(kvs[0].Value), kvs[0].ModRevision
			}
		}
	default:
		return out, fmt.Errorf("unknown op kind %d", in.Kind)
	}
	return out, nil
}

// kvState is the model's state of one key.
type kvState struct {
	exists bool
	value  string
}

// kvModel is a linearizable key-value store with get, put, delete and
// compare-and-swap, partitioned by key: a history is linearizable if and
// only if the history of each key is.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
		readOK := func() bool {
			return out.Unknown || (out.Exists == st.exists && out.Value == st.value)
		}
		switch in.Kind {
		case opGet:
			return readOK(), st
		case opPut:
			return true, kvState{exists: true, value: in.Value}
		case opDelete:
			want := int64(0)
			if st.exists {
				want = 1
			}
			return out.Unknown || out.Deleted == want, kvState{}
		case opCAS:
			holds := !st.exists
			if in.Expect != "" {
				holds = st.exists && st.value == in.Expect
			}
			next := st
			if holds {
				next = kvState{exists: true, value: in.Value}
			}
			if out.Unknown {
				return true, next
			}
			if out.Succeeded != holds {
				return false, st
			}
			return holds || readOK(), next
		}
		return false, st
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		res := ""
		switch {
		case out.Unknown:
			res = "unknown"
		case in.Kind == opGet || (in.Kind == opCAS && !out.Succeeded):
			res = "absent"
			if out.Exists {
				res = fmt.Sprintf("%q@%d", out.Value, out.ModRev)
			}
			if in.Kind == opCAS {
				res = "failed, read " + res
			}
		case in.Kind == opDelete:
			res = fmt.Sprintf("deleted %d", out.Deleted)
		default:
			res = "ok"
		}
		switch in.Kind {
		case opPut:
			return fmt.Sprintf("put(%s, %q) -> %s rev %d", in.Key, in.Value, res, out.Rev)
		case opCAS:
			return fmt.Sprintf("cas(%s, %q -> %q) -> %s rev %d", in.Key, in.Expect, in.Value, res, out.Rev)
		default:
			return fmt.Sprintf("%s(%s) -> %s rev %d", in.Kind, in.Key, res, out.Rev)
		}
	},
	DescribeState: func(state any) string {
		st := state.(kvState)
		if !st.exists {
			return "absent"
		}
		return fmt.Sprintf("%q", st.value)
	},
}

// linearizabilityTimeout bounds one porcupine check. The histories of this
// package check in well under a second; a check that runs out of time is
// reported as a failure, not as a pass.
const linearizabilityTimeout = 60 * time.Second

// checkLinearizable checks history with porcupine. The error of a violation
// names the keys whose histories are not linearizable and, when dir is not
// empty, the file in dir where porcupine's visualization of the history was
// written (a web page that shows how far each key could be linearized).
func checkLinearizable(history []porcupine.Operation, dir, name string) error {
	res, info := porcupine.CheckOperationsVerbose(kvModel, history, linearizabilityTimeout)
	switch res {
	case porcupine.Ok:
		return nil
	case porcupine.Unknown:
		return fmt.Errorf("linearizability check of %d operations did not finish within %v", len(history), linearizabilityTimeout)
	}
	var bad []string
	for _, part := range kvModel.Partition(history) {
		if !porcupine.CheckOperations(kvModel, part) {
			bad = append(bad, fmt.Sprintf("%s (%d ops)", part[0].Input.(kvInput).Key, len(part)))
		}
	}
	msg := fmt.Sprintf("history of %d operations is not linearizable; keys: %s", len(history), strings.Join(bad, ", "))
	if dir != "" {
		path := filepath.Join(dir, "fault-"+sanitize(name)+".html")
		if err := porcupine.VisualizePath(kvModel, info, path); err == nil {
			msg += "; visualization: " + path
		}
	}
	return errors.New(msg)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// checkRevisionOrder checks what the per-key model cannot: etcd's revision
// is one counter for the whole store, so an acknowledged operation that
// started after another one ended must see a revision at least as new, and
// a write must create a newer one. A read served from a stale member, or a
// write acknowledged before it was applied, breaks this across keys.
func checkRevisionOrder(history []porcupine.Operation) error {
	var done []porcupine.Operation
	for _, op := range history {
		if !op.Output.(kvOutput).Unknown {
			done = append(done, op)
		}
	}
	byReturn := slices.Clone(done)
	sort.Slice(byReturn, func(i, j int) bool { return byReturn[i].Return < byReturn[j].Return })
	byCall := slices.Clone(done)
	sort.Slice(byCall, func(i, j int) bool { return byCall[i].Call < byCall[j].Call })
	var (
		maxRev int64
		maxOp  porcupine.Operation
		next   int
		errs   []error
	)
	for _, op := range byCall {
		for next < len(byReturn) && byReturn[next].Return < op.Call {
			if r := byReturn[next].Output.(kvOutput).Rev; r > maxRev {
				maxRev, maxOp = r, byReturn[next]
			}
			next++
		}
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if out.Rev < maxRev || (mutates(in, out) && out.Rev == maxRev) {
			errs = append(errs, fmt.Errorf("%s started after %s ended but has revision %d",
				kvModel.DescribeOperation(in, out), kvModel.DescribeOperation(maxOp.Input, maxOp.Output), out.Rev))
			if len(errs) == 10 {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// checkReadRevisions checks that every acknowledged read of a value names
// the revision at which the write of that value was acknowledged.
func checkReadRevisions(history []porcupine.Operation) error {
	written := map[string]int64{} // value -> revision of its acknowledged write
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if mutates(in, out) && in.Kind != opDelete {
			written[in.Value] = out.Rev
		}
	}
	var errs []error
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if out.Unknown || !out.Exists {
			continue
		}
		if rev, ok := written[out.Value]; ok && rev != out.ModRev {
			errs = append(errs, fmt.Errorf("%s: the write of %q was acknowledged at revision %d",
				kvModel.DescribeOperation(in, out), out.Value, rev))
			if len(errs) == 10 {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// historyStats counts the operations of a history.
type historyStats struct {
	total, unknown int
	byKind         [4]int
	mutations      int
}

func statsOf(history []porcupine.Operation) historyStats {
	var s historyStats
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		s.total++
		s.byKind[in.Kind]++
		if out.Unknown {
			s.unknown++
		}
		if mutates(in, out) {
			s.mutations++
		}
	}
	return s
}

func (s historyStats) String() string {
	return fmt.Sprintf("%d ops (%d get, %d put, %d delete, %d cas; %d writes applied and acknowledged, %d with unknown outcome)",
		s.total, s.byKind[opGet], s.byKind[opPut], s.byKind[opDelete], s.byKind[opCAS], s.mutations, s.unknown)
}
