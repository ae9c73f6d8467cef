package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// ErrLockLost is returned by a fenced write when the runner no longer holds
// the migration lock (its lease expired or was revoked): the write was not
// applied.
var ErrLockLost = errors.New("migrate: migration lock lost: write refused")

// fencedKV is the KV a non-atomic migration writes through: every write is
// sent inside a txn whose compares include the lock's guard, so a runner
// that lost its lock (a stalled process whose lease expired) cannot write.
// Reads pass through.
type fencedKV struct {
	client.KV
	guard []client.Cmp
}

func (f *fencedKV) fence(ctx context.Context, op client.Op) (*pb.ResponseOp, *client.TxnResponse, error) {
	resp, err := f.KV.Txn(ctx).If(f.guard...).Then(op).Commit()
	if err != nil {
		return nil, nil, err
	}
	if !resp.Succeeded {
		return nil, nil, ErrLockLost
	}
	return resp.Responses[0], resp, nil
}

func (f *fencedKV) Put(ctx context.Context, key, val string, opts ...client.OpOption) (*client.PutResponse, error) {
	r, _, err := f.fence(ctx, client.OpPut(key, val, opts...))
	if err != nil {
		return nil, err
	}
	return (*client.PutResponse)(r.GetResponsePut()), nil
}

func (f *fencedKV) Delete(ctx context.Context, key string, opts ...client.OpOption) (*client.DeleteResponse, error) {
	r, _, err := f.fence(ctx, client.OpDelete(key, opts...))
	if err != nil {
		return nil, err
	}
	return (*client.DeleteResponse)(r.GetResponseDeleteRange()), nil
}

func (f *fencedKV) Compact(context.Context, int64, ...client.CompactOption) (*client.CompactResponse, error) {
	return nil, fmt.Errorf("%w: compact is not allowed inside a migration", client.ErrInvalidArgument)
}

func (f *fencedKV) Do(ctx context.Context, op client.Op) (client.OpResponse, error) {
	switch {
	case op.IsGet():
		return f.KV.Do(ctx, op)
	case op.IsTxn():
		cmps, thenOps, elseOps := op.Txn()
		resp, err := f.fencedTxn(ctx, cmps, thenOps, elseOps)
		if err != nil {
			return client.OpResponse{}, err
		}
		return resp.OpResponse(), nil
	}
	r, _, err := f.fence(ctx, op)
	if err != nil {
		return client.OpResponse{}, err
	}
	if op.IsPut() {
		return (*client.PutResponse)(r.GetResponsePut()).OpResponse(), nil
	}
	return (*client.DeleteResponse)(r.GetResponseDeleteRange()).OpResponse(), nil
}

// fencedTxn nests the caller's txn inside one guarded by the lock, so that
// a lost lock is told apart from the caller's own compares failing.
func (f *fencedKV) fencedTxn(ctx context.Context, cmps []client.Cmp, thenOps, elseOps []client.Op) (*client.TxnResponse, error) {
	r, outer, err := f.fence(ctx, client.OpTxn(cmps, thenOps, elseOps))
	if err != nil {
		return nil, err
	}
	inner := r.GetResponseTxn()
	return &client.TxnResponse{Header: outer.Header, Succeeded: inner.Succeeded, Responses: inner.Responses}, nil
}

func (f *fencedKV) Txn(ctx context.Context) client.Txn { return &fencedTxn{kv: f, ctx: ctx} }

// fencedTxn collects a Txn built by the caller and sends it through
// fencedKV.fencedTxn.
type fencedTxn struct {
	kv      *fencedKV
	ctx     context.Context
	cmps    []client.Cmp
	thenOps []client.Op
	elseOps []client.Op
}

func (t *fencedTxn) If(cs ...client.Cmp) client.Txn { t.cmps = append(t.cmps, cs...); return t }
func (t *fencedTxn) Then(ops ...client.Op) client.Txn {
	t.thenOps = append(t.thenOps, ops...)
	return t
}
func (t *fencedTxn) Else(ops ...client.Op) client.Txn {
	t.elseOps = append(t.elseOps, ops...)
	return t
}
func (t *fencedTxn) Commit() (*client.TxnResponse, error) {
	return t.kv.fencedTxn(t.ctx, t.cmps, t.thenOps, t.elseOps)
}
