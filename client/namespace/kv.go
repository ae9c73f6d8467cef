package namespace

import (
	"context"
	"fmt"
	"sync"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

type kvPrefix struct {
	client.KV // Compact passes through: revisions are not namespaced
	pfx       []byte
}

// NewKV returns a KV that prefixes every key it sends with prefix and
// removes prefix from every key it returns.
func NewKV(kv client.KV, prefix string) client.KV {
	return &kvPrefix{KV: kv, pfx: []byte(prefix)}
}

func (kv *kvPrefix) Put(ctx context.Context, key, val string, opts ...client.OpOption) (*client.PutResponse, error) {
	r, err := kv.Do(ctx, client.OpPut(key, val, opts...))
	return r.Put(), err
}

func (kv *kvPrefix) Get(ctx context.Context, key string, opts ...client.OpOption) (*client.GetResponse, error) {
	r, err := kv.Do(ctx, client.OpGet(key, opts...))
	return r.Get(), err
}

func (kv *kvPrefix) Delete(ctx context.Context, key string, opts ...client.OpOption) (*client.DeleteResponse, error) {
	r, err := kv.Do(ctx, client.OpDelete(key, opts...))
	return r.Del(), err
}

func (kv *kvPrefix) Do(ctx context.Context, op client.Op) (client.OpResponse, error) {
	pop, err := kv.prefixOp(op)
	if err != nil {
		return client.OpResponse{}, err
	}
	r, err := kv.KV.Do(ctx, pop)
	if err != nil {
		return client.OpResponse{}, err
	}
	switch {
	case r.Get() != nil:
		stripAll(kv.pfx, r.Get().Kvs)
	case r.Put() != nil:
		strip(kv.pfx, r.Put().PrevKv)
	case r.Del() != nil:
		stripAll(kv.pfx, r.Del().PrevKvs)
	case r.Txn() != nil:
		kv.stripTxn((*pb.TxnResponse)(r.Txn()))
	}
	return r, nil
}

// streamRange checks a streamed range's key and options and returns them
// for the wrapped KV: the key prefixed, and an option that sets the
// prefixed range after the caller's.
func (kv *kvPrefix) streamRange(key string, opts []client.OpOption) (string, []client.OpOption, error) {
	op := client.OpGet(key, opts...)
	if err := op.Err(); err != nil {
		return "", nil, err
	}
	if len(op.KeyBytes()) == 0 {
		return "", nil, rpctypes.ErrEmptyKey
	}
	k, end := interval(kv.pfx, op.KeyBytes(), op.RangeBytes())
	return string(k), append(opts[:len(opts):len(opts)], keyRange(k, end)), nil
}

// GetStream streams a range of the namespace; each part's keys lose the
// prefix before the caller sees them.
func (kv *kvPrefix) GetStream(ctx context.Context, key string, opts ...client.OpOption) (client.GetStreamChan, error) {
	if ctx == nil {
		return nil, fmt.Errorf("%w: GetStream: nil context", client.ErrInvalidArgument)
	}
	k, opts, err := kv.streamRange(key, opts)
	if err != nil {
		return nil, err
	}
	in, err := kv.KV.GetStream(ctx, k, opts...)
	if err != nil {
		return nil, err
	}
	out := make(chan client.RangeStreamResponse)
	go func() {
		defer close(out)
		for r := range in {
			if r.RangeResponse != nil {
				stripAll(kv.pfx, r.Kvs)
			}
			select {
			case out <- r:
			case <-ctx.Done():
				// The inner stream ends with ctx too; draining it lets
				// its goroutine finish.
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}

// ReadRange reads a range of the namespace one key-value at a time, when
// the KV it wraps can (see client.RangeStreamer); keys lose the prefix.
// Over a KV that cannot, it fails with codes.Unimplemented. (A client's own
// KV can, on servers without streamed ranges too: it reads in pages.)
func (kv *kvPrefix) ReadRange(ctx context.Context, key string, opts ...client.OpOption) (client.RangeReader, error) {
	if ctx == nil {
		return nil, fmt.Errorf("%w: ReadRange: nil context", client.ErrInvalidArgument)
	}
	rs, ok := kv.KV.(client.RangeStreamer)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "namespace: the wrapped KV cannot read a range one key-value at a time")
	}
	k, opts, err := kv.streamRange(key, opts)
	if err != nil {
		return nil, err
	}
	r, err := rs.ReadRange(ctx, k, opts...)
	if err != nil {
		return nil, err
	}
	return &readerPrefix{RangeReader: r, pfx: kv.pfx}, nil
}

// readerPrefix strips the namespace from the keys of a RangeReader.
type readerPrefix struct {
	client.RangeReader
	pfx []byte
}

// NextEncoded decodes, strips and encodes again: a namespace cannot strip
// its prefix from the encoding in place.
func (r *readerPrefix) NextEncoded() ([]byte, error) {
	kv, err := r.Next()
	if err != nil {
		return nil, err
	}
	return proto.Marshal(kv)
}

func (r *readerPrefix) Next() (*mvccpb.KeyValue, error) {
	kv, err := r.RangeReader.Next()
	if kv != nil {
		strip(r.pfx, kv)
	}
	return kv, err
}

func (kv *kvPrefix) Txn(ctx context.Context) client.Txn {
	return &txnPrefix{Txn: kv.KV.Txn(ctx), kv: kv}
}

// txnPrefix rewrites compares and ops as they are added; a bad one is
// reported by Commit, as the client's own Txn does.
type txnPrefix struct {
	client.Txn
	kv  *kvPrefix
	mu  sync.Mutex
	err error
}

func (t *txnPrefix) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *txnPrefix) If(cs ...client.Cmp) client.Txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	pcs, err := t.kv.prefixCmps(cs)
	if err != nil {
		t.fail(err)
	}
	t.Txn = t.Txn.If(pcs...)
	return t
}

func (t *txnPrefix) Then(ops ...client.Op) client.Txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	pops, err := t.kv.prefixOps(ops)
	if err != nil {
		t.fail(err)
	}
	t.Txn = t.Txn.Then(pops...)
	return t
}

func (t *txnPrefix) Else(ops ...client.Op) client.Txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	pops, err := t.kv.prefixOps(ops)
	if err != nil {
		t.fail(err)
	}
	t.Txn = t.Txn.Else(pops...)
	return t
}

func (t *txnPrefix) Commit() (*client.TxnResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	resp, err := t.Txn.Commit()
	if err != nil {
		return nil, err
	}
	t.kv.stripTxn((*pb.TxnResponse)(resp))
	return resp, nil
}

// prefixOp returns op with its keys (or, for a txn, every compare and op)
// moved into the namespace.
func (kv *kvPrefix) prefixOp(op client.Op) (client.Op, error) {
	if err := op.Err(); err != nil {
		return op, err
	}
	if op.IsTxn() {
		cmps, thenOps, elseOps := op.Txn()
		pc, err := kv.prefixCmps(cmps)
		if err != nil {
			return op, err
		}
		pt, err := kv.prefixOps(thenOps)
		if err != nil {
			return op, err
		}
		pe, err := kv.prefixOps(elseOps)
		if err != nil {
			return op, err
		}
		return client.OpTxn(pc, pt, pe), nil
	}
	// An empty key stays empty, so that the client refuses it as
	// rpctypes.ErrEmptyKey instead of acting on the prefix itself.
	if len(op.KeyBytes()) == 0 {
		return op, rpctypes.ErrEmptyKey
	}
	k, end := interval(kv.pfx, op.KeyBytes(), op.RangeBytes())
	op.WithKeyBytes(k)
	op.WithRangeBytes(end)
	return op, nil
}

func (kv *kvPrefix) prefixOps(ops []client.Op) ([]client.Op, error) {
	out := make([]client.Op, len(ops))
	for i := range ops {
		var err error
		if out[i], err = kv.prefixOp(ops[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (kv *kvPrefix) prefixCmps(cs []client.Cmp) ([]client.Cmp, error) {
	out := make([]client.Cmp, len(cs))
	for i, c := range cs {
		if err := c.Err(); err != nil {
			return nil, err
		}
		if len(c.KeyBytes()) == 0 {
			return nil, fmt.Errorf("compare: %w", rpctypes.ErrEmptyKey)
		}
		k, end := interval(kv.pfx, c.KeyBytes(), c.RangeBytes())
		c.WithKeyBytes(k)
		if end != nil {
			c = c.WithRange(string(end))
		} else {
			c = c.WithRange("")
		}
		out[i] = c
	}
	return out, nil
}

// stripTxn removes the prefix from every key in a txn response, nested
// txns included.
func (kv *kvPrefix) stripTxn(resp *pb.TxnResponse) {
	if resp == nil {
		return
	}
	for _, r := range resp.Responses {
		switch v := r.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			stripAll(kv.pfx, v.ResponseRange.GetKvs())
		case *pb.ResponseOp_ResponsePut:
			strip(kv.pfx, v.ResponsePut.GetPrevKv())
		case *pb.ResponseOp_ResponseDeleteRange:
			stripAll(kv.pfx, v.ResponseDeleteRange.GetPrevKvs())
		case *pb.ResponseOp_ResponseTxn:
			kv.stripTxn(v.ResponseTxn)
		}
	}
}
