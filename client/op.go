package client

import (
	"fmt"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

type opType int

const (
	tRange opType = iota + 1
	tPut
	tDeleteRange
	tTxn
)

// Op is one operation: a get, put, delete or nested txn, built by OpGet,
// OpPut, OpDelete or OpTxn and run by KV.Do or inside a Txn. Invalid options
// are recorded in the Op and reported when it runs, never as a panic.
type Op struct {
	t   opType
	key []byte
	end []byte
	val []byte

	limit        int64
	rev          int64
	sort         *SortOption
	serializable bool
	keysOnly     bool
	countOnly    bool
	minModRev    int64
	maxModRev    int64
	minCreateRev int64
	maxCreateRev int64
	pageSize     int64 // keys per request of a paged ReadRange

	prevKV      bool
	ignoreValue bool
	ignoreLease bool
	leaseID     LeaseID

	// watch-only options, read by the Watcher.
	progressNotify bool
	createdNotify  bool
	filterPut      bool
	filterDelete   bool
	fragment       bool

	cmps    []Cmp
	thenOps []Op
	elseOps []Op

	isOptsWithFromKey bool
	isOptsWithPrefix  bool
	isOptsWithRange   bool
	// err is the first invalid option, reported when the Op runs.
	err error
}

// OpOption configures an Op.
type OpOption func(*Op)

// NewOp returns an empty Op.
func NewOp() *Op { return &Op{key: []byte("")} }

// OpGet returns a range operation on key.
func OpGet(key string, opts ...OpOption) Op {
	op := Op{t: tRange, key: []byte(key)}
	return op.with(opts)
}

// OpPut returns a put of val at key.
func OpPut(key, val string, opts ...OpOption) Op {
	op := Op{t: tPut, key: []byte(key), val: []byte(val)}
	return op.with(opts)
}

// OpDelete returns a delete of key (or of a range, with WithPrefix,
// WithRange or WithFromKey).
func OpDelete(key string, opts ...OpOption) Op {
	op := Op{t: tDeleteRange, key: []byte(key)}
	return op.with(opts)
}

// OpTxn returns a nested transaction: thenOps run if every compare holds,
// elseOps otherwise.
func OpTxn(cmps []Cmp, thenOps []Op, elseOps []Op) Op {
	return Op{t: tTxn, cmps: cmps, thenOps: thenOps, elseOps: elseOps}
}

// OpWatch returns a watch operation, as clientv3 does; only its options are
// used, by Watcher.Watch.
func OpWatch(key string, opts ...OpOption) Op {
	op := Op{t: tRange, key: []byte(key)}
	return op.with(opts)
}

// with returns op with opts applied. Options are calls through unknown
// functions, so the Op they get a pointer to lives on the heap; taking op
// by value confines that to ops built with options, and keeps the plain
// Get and Put of a busy program from allocating an Op each.
func (op Op) with(opts []OpOption) Op {
	if len(opts) == 0 {
		return op
	}
	return op.withOpts(opts)
}

func (op Op) withOpts(opts []OpOption) Op {
	op.applyOpts(opts)
	return op
}

func (op *Op) applyOpts(opts []OpOption) {
	for _, o := range opts {
		o(op)
	}
	// An empty key with a prefix or from-key option means all keys; etcd
	// spells that "\x00".
	if len(op.key) == 0 && (op.isOptsWithPrefix || op.isOptsWithFromKey) {
		op.key = []byte{0}
	}
}

func (op *Op) fail(err error) {
	if op.err == nil {
		op.err = err
	}
}

// Accessors, as in clientv3.

// IsTxn reports whether op is a nested txn.
func (op Op) IsTxn() bool { return op.t == tTxn }

// Txn returns the compares and branches of a txn op.
func (op Op) Txn() ([]Cmp, []Op, []Op) { return op.cmps, op.thenOps, op.elseOps }

// KeyBytes returns the key.
func (op Op) KeyBytes() []byte { return op.key }

// WithKeyBytes sets the key.
func (op *Op) WithKeyBytes(key []byte) { op.key = key }

// RangeBytes returns the range end.
func (op Op) RangeBytes() []byte { return op.end }

// WithRangeBytes sets the range end.
func (op *Op) WithRangeBytes(end []byte) { op.end = end }

// ValueBytes returns the value of a put.
func (op Op) ValueBytes() []byte { return op.val }

// WithValueBytes sets the value of a put.
func (op *Op) WithValueBytes(v []byte) { op.val = v }

// Rev returns the revision of a get.
func (op Op) Rev() int64 { return op.rev }

// Limit returns the limit of a get.
func (op Op) Limit() int64 { return op.limit }

// IsPut reports whether op is a put.
func (op Op) IsPut() bool { return op.t == tPut }

// IsGet reports whether op is a get.
func (op Op) IsGet() bool { return op.t == tRange }

// IsDelete reports whether op is a delete.
func (op Op) IsDelete() bool { return op.t == tDeleteRange }

// IsSerializable reports whether a get is serializable.
func (op Op) IsSerializable() bool { return op.serializable }

// IsKeysOnly reports whether a get returns keys only.
func (op Op) IsKeysOnly() bool { return op.keysOnly }

// IsCountOnly reports whether a get returns the count only.
func (op Op) IsCountOnly() bool { return op.countOnly }

// IsSortSet reports whether a sort was requested.
func (op Op) IsSortSet() bool { return op.sort != nil }

// IsOptsWithFromKey reports whether WithFromKey was given.
func (op Op) IsOptsWithFromKey() bool { return op.isOptsWithFromKey }

// IsOptsWithPrefix reports whether WithPrefix was given.
func (op Op) IsOptsWithPrefix() bool { return op.isOptsWithPrefix }

// IsPrevKV reports whether the previous key-value is requested.
func (op Op) IsPrevKV() bool { return op.prevKV }

// IsFragment reports whether a watch accepts fragmented responses.
func (op Op) IsFragment() bool { return op.fragment }

// IsProgressNotify reports whether a watch asks for progress notifications.
func (op Op) IsProgressNotify() bool { return op.progressNotify }

// IsCreatedNotify reports whether a watch asks for its created response.
func (op Op) IsCreatedNotify() bool { return op.createdNotify }

// IsFilterPut reports whether a watch drops put events.
func (op Op) IsFilterPut() bool { return op.filterPut }

// IsFilterDelete reports whether a watch drops delete events.
func (op Op) IsFilterDelete() bool { return op.filterDelete }

// MinModRev returns the minimum mod revision filter.
func (op Op) MinModRev() int64 { return op.minModRev }

// MaxModRev returns the maximum mod revision filter.
func (op Op) MaxModRev() int64 { return op.maxModRev }

// MinCreateRev returns the minimum create revision filter.
func (op Op) MinCreateRev() int64 { return op.minCreateRev }

// MaxCreateRev returns the maximum create revision filter.
func (op Op) MaxCreateRev() int64 { return op.maxCreateRev }

// LeaseID returns the lease of a put.
func (op Op) LeaseID() LeaseID { return op.leaseID }

// Err returns the first invalid option given to op, or nil.
func (op Op) Err() error { return op.err }

// IsSortOptionValid reports whether the sort target and order are known.
func (op Op) IsSortOptionValid() bool {
	if op.sort == nil {
		return true
	}
	return op.sort.Order >= SortNone && op.sort.Order <= SortDescend &&
		op.sort.Target >= SortByKey && op.sort.Target <= SortByValue
}

// validate checks op before anything is sent.
func (op *Op) validate() error {
	if op.err != nil {
		return op.err
	}
	switch op.t {
	case tRange, tDeleteRange, tPut:
		if len(op.key) == 0 {
			return rpctypes.ErrEmptyKey
		}
	case tTxn:
		return validateTxn(op.cmps, op.thenOps, op.elseOps)
	default:
		return invalidArg("operation has no type (use OpGet, OpPut, OpDelete or OpTxn)")
	}
	if err := op.checkKindOptions(); err != nil {
		return err
	}
	if op.isOptsWithFromKey && (op.isOptsWithPrefix || op.isOptsWithRange) {
		return invalidArg("WithFromKey cannot be combined with WithPrefix or WithRange (key %q)", op.key)
	}
	if op.isOptsWithPrefix && op.isOptsWithRange {
		return invalidArg("WithPrefix cannot be combined with WithRange (key %q)", op.key)
	}
	if !op.IsSortOptionValid() {
		// The value itself, as clientv3 returns it, so that
		// err == rpctypes.ErrInvalidSortOption holds in ported code.
		return rpctypes.ErrInvalidSortOption
	}
	return nil
}

// checkKindOptions refuses options that mean nothing for the op's kind and
// would otherwise be dropped without a word (clientv3 panics on them): a
// range or read option on a put, a lease or read option on a delete.
func (op *Op) checkKindOptions() error {
	var bad []string
	flag := func(set bool, name string) {
		if set {
			bad = append(bad, name)
		}
	}
	readOnly := func() {
		flag(op.limit != 0, "WithLimit")
		flag(op.rev != 0, "WithRev")
		flag(op.sort != nil, "WithSort")
		flag(op.serializable, "WithSerializable")
		flag(op.countOnly, "WithCountOnly")
		flag(op.minModRev != 0 || op.maxModRev != 0, "WithMin/MaxModRev")
		flag(op.minCreateRev != 0 || op.maxCreateRev != 0, "WithMin/MaxCreateRev")
	}
	switch op.t {
	case tPut:
		flag(len(op.end) > 0 || op.isOptsWithPrefix || op.isOptsWithRange || op.isOptsWithFromKey, "a range (WithPrefix, WithRange, WithFromKey)")
		readOnly()
	case tDeleteRange:
		flag(op.leaseID != 0, "WithLease")
		flag(op.ignoreValue || op.ignoreLease, "WithIgnoreValue/WithIgnoreLease")
		readOnly()
	}
	if len(bad) > 0 {
		return invalidArg("%s: %s cannot be used with this operation", op.describe(), strings.Join(bad, ", "))
	}
	return nil
}

// describe names the op in error messages.
func (op *Op) describe() string {
	switch op.t {
	case tRange:
		return fmt.Sprintf("get %q", op.key)
	case tPut:
		return fmt.Sprintf("put %q", op.key)
	case tDeleteRange:
		return fmt.Sprintf("delete %q", op.key)
	case tTxn:
		return "txn"
	}
	return "operation"
}

func (op *Op) rangeRequest() *pb.RangeRequest {
	r := &pb.RangeRequest{
		Key:               op.key,
		RangeEnd:          op.end,
		Limit:             op.limit,
		Revision:          op.rev,
		Serializable:      op.serializable,
		KeysOnly:          op.keysOnly,
		CountOnly:         op.countOnly,
		MinModRevision:    op.minModRev,
		MaxModRevision:    op.maxModRev,
		MinCreateRevision: op.minCreateRev,
		MaxCreateRevision: op.maxCreateRev,
	}
	if op.sort != nil {
		r.SortOrder = pb.RangeRequest_SortOrder(op.sort.Order)
		r.SortTarget = pb.RangeRequest_SortTarget(op.sort.Target)
	}
	return r
}

func (op *Op) putRequest() *pb.PutRequest {
	return &pb.PutRequest{
		Key:         op.key,
		Value:       op.val,
		Lease:       int64(op.leaseID),
		PrevKv:      op.prevKV,
		IgnoreValue: op.ignoreValue,
		IgnoreLease: op.ignoreLease,
	}
}

func (op *Op) deleteRequest() *pb.DeleteRangeRequest {
	return &pb.DeleteRangeRequest{Key: op.key, RangeEnd: op.end, PrevKv: op.prevKV}
}

// requestOp converts a validated op for a txn branch.
func (op *Op) requestOp() *pb.RequestOp {
	switch op.t {
	case tRange:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: op.rangeRequest()}}
	case tPut:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: op.putRequest()}}
	case tDeleteRange:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: op.deleteRequest()}}
	case tTxn:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: txnRequest(op.cmps, op.thenOps, op.elseOps)}}
	}
	return nil
}

// isWrite reports whether op changes anything, nested txns included.
func (op *Op) isWrite() bool {
	switch op.t {
	case tPut, tDeleteRange:
		return true
	case tTxn:
		for i := range op.thenOps {
			if op.thenOps[i].isWrite() {
				return true
			}
		}
		for i := range op.elseOps {
			if op.elseOps[i].isWrite() {
				return true
			}
		}
	}
	return false
}
