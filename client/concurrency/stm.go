package concurrency

import (
	"context"
	"fmt"
	"slices"

	"github.com/etcdscript/etcdscript/client"
)

// STM is software transactional memory over etcd: the apply function given
// to NewSTM reads keys with Get and Rev and stages writes with Put and Del;
// the writes are committed in one transaction only if what was read (and,
// under SerializableSnapshot, what is written) has not changed since, and
// the function runs again on fresh data otherwise.
//
// An STM is used by its apply function only, on the goroutine NewSTM runs
// it on. Calls made after NewSTM returned do nothing (Get returns "" and Rev
// 0).
type STM interface {
	// Get returns the value of the first key, "" when it does not exist,
	// and adds every key to the read set (fetched together in one round
	// trip). A key written earlier in the same attempt reads as written.
	// If the read fails, Get does not return: the apply function is
	// abandoned and NewSTM returns the error.
	Get(key ...string) string
	// Put stages a write of val to key, with the options of client.OpPut
	// (WithLease, say); an invalid option fails the commit.
	Put(key, val string, opts ...client.OpOption)
	// Rev returns the modification revision of key as read (0 when it
	// does not exist), adding it to the read set.
	Rev(key string) int64
	// Del stages the deletion of key.
	Del(key string)

	// run is unexported so that only this package implements STM, as in
	// the official package.
	run() *stm
}

// Isolation is the isolation level of an STM: which changes made by others
// while the apply function runs make its commit fail and the function run
// again.
type Isolation int

// The isolation levels, strongest first.
const (
	// SerializableSnapshot reads every key at the revision of the
	// attempt's first read, and commits only if neither the keys read nor
	// the keys written changed after that revision. Transactions under it
	// act as if run one at a time. It is the default.
	SerializableSnapshot Isolation = iota
	// Serializable reads every key at the revision of the attempt's first
	// read, and commits only if the keys read did not change since; a
	// blind write (to a key not read) is not checked.
	Serializable
	// RepeatableReads reads each key at most once per attempt, each at
	// the then current revision of the member asked, and commits only if
	// the keys read did not change since.
	RepeatableReads
	// ReadCommitted reads each key at most once per attempt and commits
	// whatever changed meanwhile: the apply function runs once.
	ReadCommitted
)

func (iso Isolation) String() string {
	switch iso {
	case SerializableSnapshot:
		return "SerializableSnapshot"
	case Serializable:
		return "Serializable"
	case RepeatableReads:
		return "RepeatableReads"
	case ReadCommitted:
		return "ReadCommitted"
	}
	return fmt.Sprintf("Isolation(%d)", int(iso))
}

// snapshot reports whether the level reads at the revision of the first
// read.
func (iso Isolation) snapshot() bool { return iso == SerializableSnapshot || iso == Serializable }

// STMOption configures NewSTM.
type STMOption func(*stmOptions)

type stmOptions struct {
	iso      Isolation
	ctx      context.Context
	prefetch []string
	err      error
}

// WithIsolation sets the isolation level (SerializableSnapshot if not set).
func WithIsolation(lvl Isolation) STMOption {
	return func(o *stmOptions) { o.iso = lvl }
}

// WithAbortContext sets the context of every read and commit: when it
// ends, NewSTM returns its error. Without it the client's context is used.
func WithAbortContext(ctx context.Context) STMOption {
	return func(o *stmOptions) {
		if ctx == nil {
			o.err = fmt.Errorf("%w: WithAbortContext: nil context", client.ErrInvalidArgument)
			return
		}
		o.ctx = ctx
	}
}

// WithPrefetch reads keys, in one round trip, at the start of every attempt,
// for an apply function that reads them anyway.
func WithPrefetch(keys ...string) STMOption {
	return func(o *stmOptions) { o.prefetch = append(o.prefetch, keys...) }
}

// NewSTM runs apply in a software transaction on c and returns the response
// of the transaction that committed its writes. apply runs again, on fresh
// data, each time the commit finds a conflict (see Isolation), so it must
// have no effects other than through the STM. An error from apply, or from
// a read or a commit (the abort context's end, say), ends NewSTM with that
// error and nothing written.
//
// Bad input (a nil client or apply, an unknown isolation level, a nil
// option) returns an error wrapping client.ErrInvalidArgument; the official
// package panics on it.
func NewSTM(c *client.Client, apply func(STM) error, so ...STMOption) (*client.TxnResponse, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: NewSTM: nil client", client.ErrInvalidArgument)
	}
	if apply == nil {
		return nil, fmt.Errorf("%w: NewSTM: nil apply function", client.ErrInvalidArgument)
	}
	o := stmOptions{iso: SerializableSnapshot, ctx: c.Ctx()}
	for _, opt := range so {
		if opt == nil {
			return nil, fmt.Errorf("%w: NewSTM: nil STMOption", client.ErrInvalidArgument)
		}
		opt(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	if o.iso < SerializableSnapshot || o.iso > ReadCommitted {
		return nil, fmt.Errorf("%w: NewSTM: unknown isolation level %d", client.ErrInvalidArgument, int(o.iso))
	}
	s := &stm{c: c, ctx: o.ctx, iso: o.iso, prefetch: o.prefetch}
	defer func() { s.done = true }()
	for {
		s.reads = map[string]*client.GetResponse{}
		s.writes = map[string]stmWrite{}
		s.snapRev = 0
		if err := s.attempt(apply); err != nil {
			return nil, err
		}
		resp, err := s.commit()
		if err != nil || resp != nil {
			return resp, err
		}
	}
}

// NewSTMRepeatable runs apply under RepeatableReads.
//
// Deprecated: use NewSTM with WithIsolation(RepeatableReads).
func NewSTMRepeatable(ctx context.Context, c *client.Client, apply func(STM) error) (*client.TxnResponse, error) {
	return NewSTM(c, apply, WithAbortContext(ctx), WithIsolation(RepeatableReads))
}

// NewSTMSerializable runs apply under Serializable.
//
// Deprecated: use NewSTM with WithIsolation(Serializable).
func NewSTMSerializable(ctx context.Context, c *client.Client, apply func(STM) error) (*client.TxnResponse, error) {
	return NewSTM(c, apply, WithAbortContext(ctx), WithIsolation(Serializable))
}

// NewSTMReadCommitted runs apply under ReadCommitted.
//
// Deprecated: use NewSTM with WithIsolation(ReadCommitted).
func NewSTMReadCommitted(ctx context.Context, c *client.Client, apply func(STM) error) (*client.TxnResponse, error) {
	return NewSTM(c, apply, WithAbortContext(ctx), WithIsolation(ReadCommitted))
}

// stm is the one implementation of STM; its sets are those of the current
// attempt.
type stm struct {
	c        *client.Client
	ctx      context.Context
	iso      Isolation
	prefetch []string

	reads  map[string]*client.GetResponse
	writes map[string]stmWrite
	// snapRev is the revision later reads of a snapshot level are made
	// at: that of the attempt's first read, 0 before it.
	snapRev int64
	// carried holds the current values of the keys a failed commit had
	// read, fetched by that commit: the next attempt reads them from here,
	// saving a round trip.
	carried map[string]*client.GetResponse
	done    bool
}

type stmWrite struct {
	val string
	op  client.Op
}

// stmAbort carries the error of a failed read out of the apply function,
// which Get cannot return it to.
type stmAbort struct {
	s   *stm
	err error
}

func (s *stm) run() *stm { return s }

// attempt runs apply once, with the prefetch first.
func (s *stm) attempt(apply func(STM) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			a, ok := r.(stmAbort)
			if !ok || a.s != s {
				panic(r) // the apply function's own panic
			}
			err = a.err
		}
	}()
	if len(s.prefetch) > 0 {
		s.read(s.prefetch)
	}
	return apply(s)
}

func (s *stm) Get(keys ...string) string {
	if s.done || len(keys) == 0 {
		return ""
	}
	for _, k := range keys {
		if w, ok := s.writes[k]; ok {
			return w.val
		}
	}
	return value(s.read(keys))
}

func (s *stm) Rev(key string) int64 {
	if s.done {
		return 0
	}
	if r := s.read([]string{key}); len(r.Kvs) > 0 {
		return r.Kvs[0].ModRevision
	}
	return 0
}

func (s *stm) Put(key, val string, opts ...client.OpOption) {
	if !s.done {
		s.writes[key] = stmWrite{val: val, op: client.OpPut(key, val, opts...)}
	}
}

func (s *stm) Del(key string) {
	if !s.done {
		s.writes[key] = stmWrite{op: client.OpDelete(key)}
	}
}

// read adds keys to the read set, fetching those not read yet in one txn,
// and returns the response for keys[0]. It aborts the attempt on error.
func (s *stm) read(keys []string) *client.GetResponse {
	first := len(s.reads) == 0
	var missing []string
	for _, k := range keys {
		if _, ok := s.reads[k]; ok || slices.Contains(missing, k) {
			continue
		}
		if r, ok := s.carried[k]; ok && s.iso.snapshot() {
			delete(s.carried, k)
			s.reads[k] = r
			continue
		}
		missing = append(missing, k)
	}
	if len(missing) > 0 {
		var opts []client.OpOption
		switch {
		case !s.iso.snapshot():
			opts = []client.OpOption{client.WithSerializable()}
		case s.snapRev != 0:
			opts = []client.OpOption{client.WithRev(s.snapRev), client.WithSerializable()}
		}
		ops := make([]client.Op, len(missing))
		for i, k := range missing {
			ops[i] = client.OpGet(k, opts...)
		}
		resp, err := s.c.Txn(s.ctx).Then(ops...).Commit()
		if err != nil {
			panic(stmAbort{s: s, err: err})
		}
		for i, k := range missing {
			s.reads[k] = (*client.GetResponse)(resp.Responses[i].GetResponseRange())
		}
	}
	r := s.reads[keys[0]]
	if first && s.iso.snapshot() {
		s.snapRev = headerRev(r)
	}
	return r
}

// commit sends the writes guarded by the level's conflict checks. It
// returns the response when they were applied, nil when a conflict calls
// for another attempt.
func (s *stm) commit() (*client.TxnResponse, error) {
	readKeys := sortedKeys(s.reads)
	var cmps []client.Cmp
	if s.iso != ReadCommitted {
		for _, k := range readKeys {
			var rev int64
			if r := s.reads[k]; len(r.Kvs) > 0 {
				rev = r.Kvs[0].ModRevision
			}
			cmps = append(cmps, client.Compare(client.ModRevision(k), "=", rev))
		}
	}
	writeKeys := sortedKeys(s.writes)
	if s.iso == SerializableSnapshot && len(s.reads) > 0 {
		// No write may land on a key written after the snapshot.
		snap := headerRev(s.reads[readKeys[0]])
		for _, r := range s.reads {
			snap = min(snap, headerRev(r))
		}
		for _, k := range writeKeys {
			cmps = append(cmps, client.Compare(client.ModRevision(k), "<", snap+1))
		}
	}
	var puts []client.Op
	for _, k := range writeKeys {
		puts = append(puts, s.writes[k].op)
	}
	txn := s.c.Txn(s.ctx).If(cmps...).Then(puts...)
	var refetch []client.Op
	if s.iso.snapshot() {
		for _, k := range readKeys {
			refetch = append(refetch, client.OpGet(k))
		}
		txn = txn.Else(refetch...)
	}
	resp, err := txn.Commit()
	if err != nil {
		return nil, err
	}
	if resp.Succeeded {
		return resp, nil
	}
	if s.iso.snapshot() {
		s.carried = make(map[string]*client.GetResponse, len(readKeys))
		for i, k := range readKeys {
			s.carried[k] = (*client.GetResponse)(resp.Responses[i].GetResponseRange())
		}
	}
	return nil, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func headerRev(r *client.GetResponse) int64 {
	if r.Header == nil {
		return 0
	}
	return r.Header.Revision
}

func value(r *client.GetResponse) string {
	if r == nil || len(r.Kvs) == 0 {
		return ""
	}
	return string(r.Kvs[0].Value)
}
