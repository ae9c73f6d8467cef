package client

import (
	"context"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Txn is a transaction: If the compares all hold, Then's ops run, Else's
// otherwise, atomically. Calls must come in the order If, Then, Else, each
// at most once; a Txn built otherwise fails at Commit with an error (where
// clientv3 panics).
type Txn interface {
	// If adds compares.
	If(cs ...Cmp) Txn
	// Then sets the ops run when every compare holds.
	Then(ops ...Op) Txn
	// Else sets the ops run otherwise.
	Else(ops ...Op) Txn
	// Commit sends the transaction.
	Commit() (*TxnResponse, error)
}

type txn struct {
	kv  *kv
	ctx context.Context

	mu              sync.Mutex
	cif, cthen, cel bool
	cmps            []Cmp
	thenOps         []Op
	elseOps         []Op
	err             error
}

func (t *txn) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *txn) If(cs ...Cmp) Txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.cif:
		t.fail(invalidArg("Txn: If called twice"))
	case t.cthen:
		t.fail(invalidArg("Txn: If called after Then"))
	case t.cel:
		t.fail(invalidArg("Txn: If called after Else"))
	}
	t.cif = true
	t.cmps = append(t.cmps, cs...)
	return t
}

func (t *txn) Then(ops ...Op) Txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.cthen:
		t.fail(invalidArg("Txn: Then called twice"))
	case t.cel:
		t.fail(invalidArg("Txn: Then called after Else"))
	}
	t.cthen = true
	t.thenOps = append(t.thenOps, ops...)
	return t
}

func (t *txn) Else(ops ...Op) Txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cel {
		t.fail(invalidArg("Txn: Else called twice"))
	}
	t.cel = true
	t.elseOps = append(t.elseOps, ops...)
	return t
}

func (t *txn) Commit() (*TxnResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	op := OpTxn(t.cmps, t.thenOps, t.elseOps)
	r, err := t.kv.Do(t.ctx, op)
	return r.txn, err
}

// validateTxn checks every compare and op, nested txns included.
func validateTxn(cmps []Cmp, thenOps, elseOps []Op) error {
	for i := range cmps {
		if err := cmps[i].validate(); err != nil {
			return err
		}
	}
	for _, ops := range [2][]Op{thenOps, elseOps} {
		for i := range ops {
			if err := ops[i].validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

func txnRequest(cmps []Cmp, thenOps, elseOps []Op) *pb.TxnRequest {
	r := &pb.TxnRequest{
		Compare: make([]*pb.Compare, len(cmps)),
		Success: make([]*pb.RequestOp, len(thenOps)),
		Failure: make([]*pb.RequestOp, len(elseOps)),
	}
	for i := range cmps {
		r.Compare[i] = cmps[i].GetCompare()
	}
	for i := range thenOps {
		r.Success[i] = thenOps[i].requestOp()
	}
	for i := range elseOps {
		r.Failure[i] = elseOps[i].requestOp()
	}
	return r
}
