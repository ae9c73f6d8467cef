// Package kubernetes is the small etcd interface Kubernetes' storage layer
// uses (Get, List, Count and the optimistic Put and Delete it builds every
// update on), with the shapes of the official clientv3 kubernetes package,
// on top of this module's client.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Interface is what Kubernetes needs from etcd. Each method is one request
// to the server.
type Interface interface {
	// Get reads one key, at opts.Revision when it is not 0. A missing key
	// is not an error: the response's KV is nil. A compacted revision
	// fails with rpctypes.ErrCompacted.
	Get(ctx context.Context, key string, opts GetOptions) (GetResponse, error)

	// List reads the keys under prefix in key order: from opts.Continue
	// when set (a previous page's last key with "\x00" appended), at most
	// opts.Limit of them when it is positive, at opts.Revision when it is
	// not 0.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResponse, error)

	// Count returns the number of keys under prefix.
	Count(ctx context.Context, prefix string, opts CountOptions) (int64, error)

	// OptimisticPut writes key only if its mod revision is still
	// expectedRevision (0: only if the key does not exist). Otherwise it
	// writes nothing, and returns the key's current value when
	// opts.GetOnFailure is set.
	OptimisticPut(ctx context.Context, key string, value []byte, expectedRevision int64, opts PutOptions) (PutResponse, error)

	// OptimisticDelete deletes key only if its mod revision is still
	// expectedRevision. Otherwise it deletes nothing, and returns the key's
	// current value when opts.GetOnFailure is set.
	OptimisticDelete(ctx context.Context, key string, expectedRevision int64, opts DeleteOptions) (DeleteResponse, error)
}

// GetOptions are the options of Get.
type GetOptions struct {
	// Revision is the revision to read at; 0 means the latest.
	Revision int64
}

// ListOptions are the options of List.
type ListOptions struct {
	// Revision is the revision to read at; 0 means the latest. Pages of one
	// listing should all use the first page's revision.
	Revision int64

	// Limit is the most keys to return; 0 means all.
	Limit int64

	// Continue is the key to start from: the last key of the previous page
	// with "\x00" appended. It must lie under the listed prefix.
	Continue string
}

// CountOptions are the options of Count; there are none yet.
type CountOptions struct{}

// PutOptions are the options of OptimisticPut.
type PutOptions struct {
	// GetOnFailure returns the key's current value when the put is not
	// made because the revision did not match.
	GetOnFailure bool

	// LeaseID attaches the key to a lease.
	LeaseID client.LeaseID
}

// DeleteOptions are the options of OptimisticDelete.
type DeleteOptions struct {
	// GetOnFailure returns the key's current value when the delete is not
	// made because the revision did not match.
	GetOnFailure bool
}

// GetResponse is the result of Get.
type GetResponse struct {
	// KV is the key's value, or nil when the key does not exist.
	KV *mvccpb.KeyValue

	// Revision is the store's revision when the read was served.
	Revision int64
}

// ListResponse is the result of List.
type ListResponse struct {
	// Kvs are the keys read, in key order.
	Kvs []*mvccpb.KeyValue

	// Count is the number of keys in the listed range (from Continue to
	// the end of the prefix), including those a Limit left out.
	Count int64

	// Revision is the store's revision when the read was served.
	Revision int64
}

// PutResponse is the result of OptimisticPut.
type PutResponse struct {
	// KV is the key as written when Succeeded. When not, it is the key's
	// current value (nil if the key does not exist) if GetOnFailure was
	// set, and nil otherwise.
	KV *mvccpb.KeyValue

	// Succeeded reports whether the put was made.
	Succeeded bool

	// Revision is the store's revision after the request: the put's
	// revision when Succeeded.
	Revision int64
}

// DeleteResponse is the result of OptimisticDelete.
type DeleteResponse struct {
	// KV is the deleted key when Succeeded. When not, it is the key's
	// current value (nil if the key does not exist) if GetOnFailure was
	// set, and nil otherwise.
	KV *mvccpb.KeyValue

	// Succeeded reports whether the delete was made.
	Succeeded bool

	// Revision is the store's revision after the request.
	Revision int64
}

// Client is a client.Client with the Kubernetes interface.
type Client struct {
	*client.Client
	// Kubernetes is the Interface; it is the Client itself.
	Kubernetes Interface
}

var _ Interface = (*Client)(nil)

// New creates a client for cfg (see client.New) with the Kubernetes
// interface.
func New(cfg client.Config) (*Client, error) {
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return wrap(c), nil
}

// NewFromClient returns the Kubernetes interface on an existing client; the
// caller keeps closing c.
func NewFromClient(c *client.Client) *Client { return wrap(c) }

func wrap(c *client.Client) *Client {
	kc := &Client{Client: c}
	kc.Kubernetes = kc
	return kc
}

func (k Client) Get(ctx context.Context, key string, opts GetOptions) (GetResponse, error) {
	var resp GetResponse
	r, err := k.KV.Get(ctx, key, client.WithRev(opts.Revision), client.WithLimit(1))
	if err != nil {
		return resp, err
	}
	resp.Revision = r.Header.GetRevision()
	if len(r.Kvs) > 0 {
		resp.KV = r.Kvs[0]
	}
	return resp, nil
}

func (k Client) List(ctx context.Context, prefix string, opts ListOptions) (ListResponse, error) {
	var resp ListResponse
	if opts.Limit < 0 {
		return resp, fmt.Errorf("%w: List(%q): negative limit %d", client.ErrInvalidArgument, prefix, opts.Limit)
	}
	start := prefix
	if opts.Continue != "" {
		// A continue key outside the prefix would list other keys.
		if !strings.HasPrefix(opts.Continue, prefix) {
			return resp, fmt.Errorf("%w: List(%q): continue key %q is not under the prefix", client.ErrInvalidArgument, prefix, opts.Continue)
		}
		start = opts.Continue
	}
	end := client.GetPrefixRangeEnd(prefix)
	var rangeOpt client.OpOption
	if start == "" {
		// Everything: "" is no key, so the range starts at "\x00".
		start, rangeOpt = "\x00", client.WithFromKey()
	} else {
		rangeOpt = client.WithRange(end)
	}
	r, err := k.KV.Get(ctx, start, rangeOpt, client.WithLimit(opts.Limit), client.WithRev(opts.Revision))
	if err != nil {
		return resp, err
	}
	resp.Kvs, resp.Count, resp.Revision = r.Kvs, r.Count, r.Header.GetRevision()
	return resp, nil
}

func (k Client) Count(ctx context.Context, prefix string, _ CountOptions) (int64, error) {
	r, err := k.KV.Get(ctx, prefix, client.WithPrefix(), client.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return r.Count, nil
}

func (k Client) OptimisticPut(ctx context.Context, key string, value []byte, expectedRevision int64, opts PutOptions) (PutResponse, error) {
	var resp PutResponse
	// The keys-only read before the put gives the create revision and
	// version the new KV inherits, without sending the old value back.
	txn := k.KV.Txn(ctx).
		If(client.Compare(client.ModRevision(key), "=", expectedRevision)).
		Then(client.OpGet(key, client.WithKeysOnly()), client.OpPut(key, string(value), client.WithLease(opts.LeaseID)))
	if opts.GetOnFailure {
		txn = txn.Else(client.OpGet(key))
	}
	r, err := txn.Commit()
	if err != nil {
		return resp, err
	}
	resp.Succeeded, resp.Revision = r.Succeeded, r.Header.GetRevision()
	switch {
	case r.Succeeded:
		if len(r.Responses) != 2 {
			return resp, fmt.Errorf("etcdclient: OptimisticPut(%q): %d responses to a txn of 2 ops", key, len(r.Responses))
		}
		kv := &mvccpb.KeyValue{
			Key:            []byte(key),
			Value:          value,
			CreateRevision: resp.Revision,
			ModRevision:    resp.Revision,
			Version:        1,
			Lease:          int64(opts.LeaseID),
		}
		if old := firstKV(r.Responses[0]); old != nil {
			kv.CreateRevision, kv.Version = old.CreateRevision, old.Version+1
		}
		resp.KV = kv
	case opts.GetOnFailure:
		if len(r.Responses) != 1 {
			return resp, fmt.Errorf("etcdclient: OptimisticPut(%q): %d responses to a txn of 1 op", key, len(r.Responses))
		}
		resp.KV = firstKV(r.Responses[0])
	}
	return resp, nil
}

func (k Client) OptimisticDelete(ctx context.Context, key string, expectedRevision int64, opts DeleteOptions) (DeleteResponse, error) {
	var resp DeleteResponse
	txn := k.KV.Txn(ctx).
		If(client.Compare(client.ModRevision(key), "=", expectedRevision)).
		Then(client.OpDelete(key, client.WithPrevKV()))
	if opts.GetOnFailure {
		txn = txn.Else(client.OpGet(key))
	}
	r, err := txn.Commit()
	if err != nil {
		return resp, err
	}
	resp.Succeeded, resp.Revision = r.Succeeded, r.Header.GetRevision()
	if !r.Succeeded && !opts.GetOnFailure {
		return resp, nil
	}
	if len(r.Responses) != 1 {
		return resp, errors.New("etcdclient: OptimisticDelete: unexpected txn response")
	}
	if r.Succeeded {
		if prev := r.Responses[0].GetResponseDeleteRange().GetPrevKvs(); len(prev) > 0 {
			resp.KV = prev[0]
		}
	} else {
		resp.KV = firstKV(r.Responses[0])
	}
	return resp, nil
}

// firstKV is the first key of a range response in a txn, or nil.
func firstKV(r *pb.ResponseOp) *mvccpb.KeyValue {
	if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
		return kvs[0]
	}
	return nil
}
