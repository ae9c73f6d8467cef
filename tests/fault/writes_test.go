package fault

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"

	"github.com/etcdscript/etcdscript/client"
)

// checkFinalState checks the final value of each key against the last
// event the watcher received for it, and against the last acknowledged
// write of the key: a later write may have replaced it, nothing may have
// rolled it back.
func checkFinalState(events []watchEvent, final map[string]kvOutput, history []porcupine.Operation) error {
	var errs []error
	lastEvent := map[string]watchEvent{}
	for _, ev := range events {
		lastEvent[ev.Key] = ev
	}
	keys := map[string]bool{}
	for _, op := range history {
		keys[op.Input.(kvInput).Key] = true
	}
	for k := range keys {
		ev, ok := lastEvent[k]
		if !ok {
			continue // never written during the run
		}
		got := final[k]
		switch {
		case ev.Del && got.Exists:
			errs = append(errs, fmt.Errorf("%s: last event %v, final value %q", k, ev, got.Value))
		case !ev.Del && (!got.Exists || got.Value != ev.Value || got.ModRev != ev.Rev):
			errs = append(errs, fmt.Errorf("%s: last event %v, final %+v", k, ev, got))
		}
	}
	lastAcked := map[string]porcupine.Operation{}
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if !mutates(in, out) {
			continue
		}
		if prev, ok := lastAcked[in.Key]; !ok || out.Rev > prev.Output.(kvOutput).Rev {
			lastAcked[in.Key] = op
		}
	}
	for k, op := range lastAcked {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		got := final[k]
		switch {
		case got.Exists && got.ModRev < out.Rev:
			errs = append(errs, fmt.Errorf("%s: final value from revision %d is older than acknowledged %s", k, got.ModRev, kvModel.DescribeOperation(in, out)))
		case got.Exists && got.ModRev == out.Rev && (in.Kind == opDelete || got.Value != in.Value):
			errs = append(errs, fmt.Errorf("%s: final value %q at revision %d, acknowledged there: %s", k, got.Value, got.ModRev, kvModel.DescribeOperation(in, out)))
		case !got.Exists && in.Kind != opDelete && !deletedAfter(events, k, out.Rev):
			errs = append(errs, fmt.Errorf("%s: absent at the end, but %s and no delete followed", k, kvModel.DescribeOperation(in, out)))
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

func deletedAfter(events []watchEvent, key string, rev int64) bool {
	for _, ev := range events {
		if ev.Key == key && ev.Del && ev.Rev > rev {
			return true
		}
	}
	return false
}

// checkNoLostWrites reads every acknowledged write back from the store's
// history: the key at the write's revision must hold the written value,
// written at that revision (or be absent, for a delete). It returns the
// number of writes checked.
func checkNoLostWrites(ctx context.Context, kv client.KV, history []porcupine.Operation) (int, error) {
	type write struct {
		in  kvInput
		out kvOutput
	}
	var writes []write
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		if mutates(in, out) {
			writes = append(writes, write{in, out})
		}
	}
	var errs []error
	const batch = 64
	for i := 0; i < len(writes); i += batch {
		part := writes[i:min(i+batch, len(writes))]
		ops := make([]client.Op, len(part))
		for j, w := range part {
			ops[j] = client.OpGet(w.in.Key, client.WithRev(w.out.Rev))
		}
		cctx, cancel := context.WithTimeout(ctx, readTimeout)
		resp, err := kv.Txn(cctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return 0, fmt.Errorf("reading writes back: %w", err)
		}
		for j, w := range part {
			kvs := resp.Responses[j].GetResponseRange().Kvs
			desc := kvModel.DescribeOperation(w.in, w.out)
			switch {
			case w.in.Kind == opDelete && len(kvs) != 0:
				errs = append(errs, fmt.Errorf("acknowledged %s, but the key holds %q at that revision", desc, kvs[0].Value))
			case w.in.Kind != opDelete && len(kvs) == 0:
				errs = append(errs, fmt.Errorf("acknowledged %s, but the key is absent at that revision", desc))
			case w.in.Kind != opDelete && (string(kvs[0].Value) != w.in.Value || kvs[0].ModRevision != w.out.Rev):
				errs = append(errs, fmt.Errorf("acknowledged %s, but the key holds %q from revision %d", desc, kvs[0].Value, kvs[0].ModRevision))
			}
		}
		if len(errs) >= 10 {
			break
		}
	}
	return len(writes), errors.Join(errs...)
}
