package migrate

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Server limits an atomic migration's one txn must fit in.
const (
	maxTxnOps      = 128
	maxTxnBytes    = 1536 * 1024
	txnBytesMargin = 64 * 1024 // headers, compares, bookkeeping
)

// ErrTooLargeForAtomic is returned when an atomic migration's writes do not
// fit in one txn.
var ErrTooLargeForAtomic = fmt.Errorf("migrate: too large for atomic mode")

// PlannedWrite is one write a migration would make, as --dry-run prints it.
type PlannedWrite struct {
	Key string `json:"key"`
	// Old is the value before, nil when the key did not exist.
	Old *string `json:"old"`
	// New is the value after, nil for a delete.
	New *string `json:"new"`
}

type pendingWrite struct {
	del   bool
	value []byte
	lease client.LeaseID
	old   *mvccpb.KeyValue // the key at the read revision, nil when absent
}

type keyRange struct{ key, end []byte }

// bufferedKV is the KV of an atomic migration and of a dry run: reads are at
// one fixed revision (and see the migration's own writes), writes are
// collected, and commit sends them all in one txn together with compares
// that every key read is unchanged since.
type bufferedKV struct {
	client.KV
	rev    int64
	reads  map[string]int64 // key -> mod revision seen (0: absent)
	ranges []keyRange
	writes map[string]*pendingWrite
	order  []string
}

func newBufferedKV(kv client.KV, rev int64) *bufferedKV {
	return &bufferedKV{KV: kv, rev: rev, reads: map[string]int64{}, writes: map[string]*pendingWrite{}}
}

func (b *bufferedKV) readAt(ctx context.Context, op client.Op) (*client.GetResponse, error) {
	opts := []client.OpOption{}
	if op.Rev() == 0 {
		opts = append(opts, client.WithRev(b.rev))
	}
	// Rebuild the op with the fixed revision: options are the caller's.
	r, err := b.KV.Do(ctx, withOptions(op, opts...))
	if err != nil {
		return nil, err
	}
	get := r.Get()
	if len(op.RangeBytes()) == 0 {
		var mod int64
		if len(get.Kvs) == 1 {
			mod = get.Kvs[0].ModRevision
		}
		b.noteRead(string(op.KeyBytes()), mod)
		return get, nil
	}
	b.ranges = append(b.ranges, keyRange{key: op.KeyBytes(), end: op.RangeBytes()})
	for _, kv := range get.Kvs {
		b.noteRead(string(kv.Key), kv.ModRevision)
	}
	return get, nil
}

func (b *bufferedKV) noteRead(key string, mod int64) {
	if _, written := b.writes[key]; written {
		return // our own write: its compare was taken before the write
	}
	b.reads[key] = mod
}

func withOptions(op client.Op, extra ...client.OpOption) client.Op {
	for _, o := range extra {
		o(&op)
	}
	return op
}

func inRange(key []byte, r keyRange) bool {
	if len(r.end) == 0 {
		return bytes.Equal(key, r.key)
	}
	if bytes.Compare(key, r.key) < 0 {
		return false
	}
	return (len(r.end) == 1 && r.end[0] == 0) || bytes.Compare(key, r.end) < 0
}

func (b *bufferedKV) Get(ctx context.Context, key string, opts ...client.OpOption) (*client.GetResponse, error) {
	return b.get(ctx, client.OpGet(key, opts...))
}

func (b *bufferedKV) get(ctx context.Context, op client.Op) (*client.GetResponse, error) {
	if err := op.Err(); err != nil {
		return nil, err
	}
	key := string(op.KeyBytes())
	get, err := b.readAt(ctx, op)
	if err != nil {
		return nil, err
	}
	r := keyRange{key: op.KeyBytes(), end: op.RangeBytes()}
	var touched []string
	for _, k := range b.order {
		if inRange([]byte(k), r) {
			touched = append(touched, k)
		}
	}
	if len(touched) == 0 {
		return get, nil
	}
	if op.Limit() != 0 || op.IsSortSet() || op.IsCountOnly() || op.MinModRev() != 0 || op.MaxModRev() != 0 || op.MinCreateRev() != 0 || op.MaxCreateRev() != 0 {
		return nil, fmt.Errorf("%w: an atomic migration cannot read its own writes with limit, sort, count or revision filters (key %q)", client.ErrInvalidArgument, key)
	}
	// Merge the buffered writes over what the server returned.
	byKey := map[string]*mvccpb.KeyValue{}
	for _, kv := range get.Kvs {
		byKey[string(kv.Key)] = kv
	}
	for _, k := range touched {
		w := b.writes[k]
		if w.del {
			delete(byKey, k)
			continue
		}
		kv := &mvccpb.KeyValue{Key: []byte(k), Value: w.value, Lease: int64(w.lease)}
		if op.IsKeysOnly() {
			kv.Value = nil
		}
		if w.old != nil {
			kv.CreateRevision, kv.Version = w.old.CreateRevision, w.old.Version+1
		} else {
			kv.Version = 1
		}
		byKey[k] = kv
	}
	out := &pb.RangeResponse{Header: get.Header}
	for _, kv := range byKey {
		out.Kvs = append(out.Kvs, kv)
	}
	sort.Slice(out.Kvs, func(i, j int) bool { return bytes.Compare(out.Kvs[i].Key, out.Kvs[j].Key) < 0 })
	out.Count = int64(len(out.Kvs))
	return (*client.GetResponse)(out), nil
}

// current returns the key as the migration sees it: its buffered write, or
// the value at the read revision.
func (b *bufferedKV) current(ctx context.Context, key string) (*mvccpb.KeyValue, error) {
	get, err := b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(get.Kvs) == 0 {
		return nil, nil
	}
	return get.Kvs[0], nil
}

func (b *bufferedKV) record(key string, w *pendingWrite) {
	if prev, ok := b.writes[key]; ok {
		w.old = prev.old
	} else {
		b.order = append(b.order, key)
	}
	b.writes[key] = w
}

func (b *bufferedKV) Put(ctx context.Context, key, val string, opts ...client.OpOption) (*client.PutResponse, error) {
	op := client.OpPut(key, val, opts...)
	if err := op.Err(); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, rpctypes.ErrEmptyKey
	}
	old, err := b.current(ctx, key)
	if err != nil {
		return nil, err
	}
	b.record(key, &pendingWrite{value: op.ValueBytes(), lease: op.LeaseID(), old: old})
	resp := &pb.PutResponse{Header: &pb.ResponseHeader{Revision: b.rev}}
	if op.IsPrevKV() {
		resp.PrevKv = old
	}
	return (*client.PutResponse)(resp), nil
}

func (b *bufferedKV) Delete(ctx context.Context, key string, opts ...client.OpOption) (*client.DeleteResponse, error) {
	op := client.OpDelete(key, opts...)
	if err := op.Err(); err != nil {
		return nil, err
	}
	// Expand the delete into the keys it would remove, so the commit
	// deletes exactly those and fails if the range changed meanwhile.
	getOpts := []client.OpOption{}
	if end := op.RangeBytes(); len(end) > 0 {
		getOpts = append(getOpts, client.WithRange(string(end)))
	}
	get, err := b.Get(ctx, string(op.KeyBytes()), getOpts...)
	if err != nil {
		return nil, err
	}
	resp := &pb.DeleteRangeResponse{Header: &pb.ResponseHeader{Revision: b.rev}, Deleted: int64(len(get.Kvs))}
	for _, kv := range get.Kvs {
		b.record(string(kv.Key), &pendingWrite{del: true, old: kv})
		if op.IsPrevKV() {
			resp.PrevKvs = append(resp.PrevKvs, kv)
		}
	}
	return (*client.DeleteResponse)(resp), nil
}

func (b *bufferedKV) Compact(context.Context, int64, ...client.CompactOption) (*client.CompactResponse, error) {
	return nil, fmt.Errorf("%w: compact is not allowed inside a migration", client.ErrInvalidArgument)
}

func (b *bufferedKV) Txn(ctx context.Context) client.Txn { return refusedTxn{} }

type refusedTxn struct{}

var errTxnInAtomic = fmt.Errorf("%w: an atomic migration (or a dry run) commits all its writes in one txn; use plain gets, puts and deletes inside it", client.ErrInvalidArgument)

func (refusedTxn) If(...client.Cmp) client.Txn          { return refusedTxn{} }
func (refusedTxn) Then(...client.Op) client.Txn         { return refusedTxn{} }
func (refusedTxn) Else(...client.Op) client.Txn         { return refusedTxn{} }
func (refusedTxn) Commit() (*client.TxnResponse, error) { return nil, errTxnInAtomic }

func (b *bufferedKV) Do(ctx context.Context, op client.Op) (client.OpResponse, error) {
	switch {
	case op.IsGet():
		r, err := b.get(ctx, op)
		if err != nil {
			return client.OpResponse{}, err
		}
		return r.OpResponse(), nil
	case op.IsPut():
		r, err := b.Put(ctx, string(op.KeyBytes()), string(op.ValueBytes()), client.WithLease(op.LeaseID()))
		if err != nil {
			return client.OpResponse{}, err
		}
		return r.OpResponse(), nil
	case op.IsDelete():
		r, err := b.Delete(ctx, string(op.KeyBytes()), client.WithRange(string(op.RangeBytes())))
		if err != nil {
			return client.OpResponse{}, err
		}
		return r.OpResponse(), nil
	}
	return client.OpResponse{}, errTxnInAtomic
}

// planned lists the buffered writes in the order they were first made.
func (b *bufferedKV) planned() []PlannedWrite {
	out := make([]PlannedWrite, 0, len(b.order))
	for _, k := range b.order {
		w := b.writes[k]
		p := PlannedWrite{Key: k}
		if w.old != nil {
			s := string(w.old.Value)
			p.Old = &s
		}
		if !w.del {
			s := string(w.value)
			p.New = &s
		}
		out = append(out, p)
	}
	return out
}

// commitOps returns the compares and ops of the one txn that commits the
// migration: reads unchanged, writes applied. extra are the caller's own
// (guard, state token, bookkeeping), which count toward the limits too.
func (b *bufferedKV) commitOps(extraCmps []client.Cmp, extraOps []client.Op) ([]client.Cmp, []client.Op, error) {
	cmps := append([]client.Cmp{}, extraCmps...)
	keys := make([]string, 0, len(b.reads))
	for k := range b.reads {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmps = append(cmps, client.Compare(client.ModRevision(k), "=", b.reads[k]))
	}
	for _, r := range b.ranges {
		cmps = append(cmps, client.Compare(client.ModRevision(string(r.key)), "<", b.rev+1).WithRange(string(r.end)))
	}
	ops := make([]client.Op, 0, len(b.order)+len(extraOps))
	size := 0
	for _, k := range b.order {
		w := b.writes[k]
		if w.del {
			if w.old == nil {
				continue // deleting what does not exist: nothing to send
			}
			ops = append(ops, client.OpDelete(k))
		} else {
			var opts []client.OpOption
			if w.lease != client.NoLease {
				opts = append(opts, client.WithLease(w.lease))
			}
			ops = append(ops, client.OpPut(k, string(w.value), opts...))
		}
		size += len(k) + len(w.value) + 16
	}
	ops = append(ops, extraOps...)
	for _, op := range extraOps {
		size += len(op.KeyBytes()) + len(op.ValueBytes()) + 16
	}
	for _, c := range cmps {
		size += len(c.KeyBytes()) + len(c.RangeBytes()) + len(c.ValueBytes()) + 16
	}
	switch {
	case len(ops) > maxTxnOps:
		return nil, nil, fmt.Errorf("%w: %d writes (with bookkeeping), the server takes at most %d ops per txn", ErrTooLargeForAtomic, len(ops), maxTxnOps)
	case len(cmps) > maxTxnOps:
		return nil, nil, fmt.Errorf("%w: %d keys read, the server takes at most %d compares per txn", ErrTooLargeForAtomic, len(cmps), maxTxnOps)
	case size > maxTxnBytes-txnBytesMargin:
		return nil, nil, fmt.Errorf("%w: about %d bytes of writes, the server takes at most %d per request", ErrTooLargeForAtomic, size, maxTxnBytes)
	}
	return cmps, ops, nil
}

// changedKey finds a key read by the migration that changed after the read
// revision, to say why an atomic commit failed.
func (b *bufferedKV) changedKey(ctx context.Context) (string, error) {
	for k, mod := range b.reads {
		get, err := b.KV.Get(ctx, k)
		if err != nil {
			return "", err
		}
		var now int64
		if len(get.Kvs) == 1 {
			now = get.Kvs[0].ModRevision
		}
		if now != mod {
			return k, nil
		}
	}
	for _, r := range b.ranges {
		get, err := b.KV.Get(ctx, string(r.key), client.WithRange(string(r.end)), client.WithMinModRev(b.rev+1), client.WithKeysOnly(), client.WithLimit(1))
		if err != nil {
			return "", err
		}
		if len(get.Kvs) > 0 {
			return string(get.Kvs[0].Key), nil
		}
	}
	return "", nil
}
