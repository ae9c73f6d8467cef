package client

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Response types are the server's protobuf messages under clientv3's names,
// so fields (Header, Kvs, Count, More, PrevKv, ...) read the same.
type (
	CompactResponse pb.CompactionResponse
	PutResponse     pb.PutResponse
	GetResponse     pb.RangeResponse
	DeleteResponse  pb.DeleteRangeResponse
	TxnResponse     pb.TxnResponse
)

// KV is the key-value API.
type KV interface {
	// Put sets key to val.
	Put(ctx context.Context, key, val string, opts ...OpOption) (*PutResponse, error)
	// Get reads key, or a range of keys with WithPrefix, WithRange or
	// WithFromKey.
	Get(ctx context.Context, key string, opts ...OpOption) (*GetResponse, error)
	// GetStream reads a range as a stream of partial responses (etcd 3.7
	// servers), so a large range never sits in memory whole. An older
	// server refuses it: the channel then delivers an error wrapping
	// ErrNoRangeStream (with status codes.Unimplemented).
	GetStream(ctx context.Context, key string, opts ...OpOption) (GetStreamChan, error)
	// Delete deletes key, or a range of keys.
	Delete(ctx context.Context, key string, opts ...OpOption) (*DeleteResponse, error)
	// Compact drops the history before revision rev.
	Compact(ctx context.Context, rev int64, opts ...CompactOption) (*CompactResponse, error)
	// Do runs one Op.
	Do(ctx context.Context, op Op) (OpResponse, error)
	// Txn starts a transaction.
	Txn(ctx context.Context) Txn
}

// OpResponse is the result of Do: exactly one of its parts is set.
type OpResponse struct {
	put *PutResponse
	get *GetResponse
	del *DeleteResponse
	txn *TxnResponse
}

// Put returns the response of a put.
func (op OpResponse) Put() *PutResponse { return op.put }

// Get returns the response of a get.
func (op OpResponse) Get() *GetResponse { return op.get }

// Del returns the response of a delete.
func (op OpResponse) Del() *DeleteResponse { return op.del }

// Txn returns the response of a txn.
func (op OpResponse) Txn() *TxnResponse { return op.txn }

// OpResponse wraps the response.
func (resp *PutResponse) OpResponse() OpResponse { return OpResponse{put: resp} }

// OpResponse wraps the response.
func (resp *GetResponse) OpResponse() OpResponse { return OpResponse{get: resp} }

// OpResponse wraps the response.
func (resp *DeleteResponse) OpResponse() OpResponse { return OpResponse{del: resp} }

// OpResponse wraps the response.
func (resp *TxnResponse) OpResponse() OpResponse { return OpResponse{txn: resp} }

// kv implements KV on a Client.
type kv struct{ c *Client }

// NewKV returns the KV API of c (the same as c.KV).
func NewKV(c *Client) KV { return &kv{c: c} }

func (k *kv) Put(ctx context.Context, key, val string, opts ...OpOption) (*PutResponse, error) {
	op := OpPut(key, val, opts...)
	r, err := k.Do(ctx, op)
	return r.put, err
}

func (k *kv) Get(ctx context.Context, key string, opts ...OpOption) (*GetResponse, error) {
	op := OpGet(key, opts...)
	r, err := k.Do(ctx, op)
	return r.get, err
}

func (k *kv) Delete(ctx context.Context, key string, opts ...OpOption) (*DeleteResponse, error) {
	op := OpDelete(key, opts...)
	r, err := k.Do(ctx, op)
	return r.del, err
}

func (k *kv) Compact(ctx context.Context, rev int64, opts ...CompactOption) (*CompactResponse, error) {
	cop := OpCompact(rev, opts...)
	if rev <= 0 {
		return nil, invalidArg("Compact(%d): the revision must be positive", rev)
	}
	resp := new(pb.CompactionResponse)
	if err := k.c.invoke(ctx, methodCompact, cop.request(), resp, false); err != nil {
		return nil, err
	}
	return (*CompactResponse)(resp), nil
}

func (k *kv) Txn(ctx context.Context) Txn { return &txn{kv: k, ctx: ctx} }

func (k *kv) Do(ctx context.Context, op Op) (OpResponse, error) {
	if ctx == nil {
		return OpResponse{}, invalidArg("%s: nil context", op.describe())
	}
	if err := op.validate(); err != nil {
		return OpResponse{}, err
	}
	c := k.c
	switch op.t {
	case tRange:
		resp := new(pb.RangeResponse)
		if err := c.invoke(ctx, methodRange, op.rangeRequest(), resp, true); err != nil {
			return OpResponse{}, err
		}
		return OpResponse{get: (*GetResponse)(resp)}, nil
	case tPut:
		resp := new(pb.PutResponse)
		if err := c.invoke(ctx, methodPut, op.putRequest(), resp, false); err != nil {
			return OpResponse{}, err
		}
		return OpResponse{put: (*PutResponse)(resp)}, nil
	case tDeleteRange:
		resp := new(pb.DeleteRangeResponse)
		if err := c.invoke(ctx, methodDeleteRange, op.deleteRequest(), resp, false); err != nil {
			return OpResponse{}, err
		}
		return OpResponse{del: (*DeleteResponse)(resp)}, nil
	default: // tTxn; validate rejected anything else
		resp := new(pb.TxnResponse)
		if err := c.invoke(ctx, methodTxn, txnRequest(op.cmps, op.thenOps, op.elseOps), resp, !op.isWrite()); err != nil {
			return OpResponse{}, err
		}
		return OpResponse{txn: (*TxnResponse)(resp)}, nil
	}
}
