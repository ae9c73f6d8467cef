package client

import (
	"bytes"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// CompareTarget is what a Cmp looks at.
type CompareTarget int

// CompareResult is the relation a Cmp checks.
type CompareResult int

// Compare targets, as in clientv3.
const (
	CompareVersion CompareTarget = iota
	CompareCreated
	CompareModified
	CompareValue
)

// Cmp is one condition of a Txn: built by Compare(Value(k), "=", v) and its
// siblings. An invalid Cmp (an unknown operator, a value of the wrong type)
// is reported by Txn.Commit, never by a panic.
type Cmp struct {
	target   pb.Compare_CompareTarget
	result   pb.Compare_CompareResult
	key      []byte
	rangeEnd []byte
	value    []byte
	version  int64
	create   int64
	mod      int64
	lease    int64
	err      error
}

// FromCompare builds a Cmp from its protobuf form.
func FromCompare(c *pb.Compare) Cmp {
	cmp := Cmp{target: c.Target, result: c.Result, key: c.Key, rangeEnd: c.RangeEnd}
	switch u := c.TargetUnion.(type) {
	case *pb.Compare_Value:
		cmp.value = u.Value
	case *pb.Compare_Version:
		cmp.version = u.Version
	case *pb.Compare_CreateRevision:
		cmp.create = u.CreateRevision
	case *pb.Compare_ModRevision:
		cmp.mod = u.ModRevision
	case *pb.Compare_Lease:
		cmp.lease = u.Lease
	}
	return cmp
}

// GetCompare returns the protobuf form of the Cmp.
func (cmp *Cmp) GetCompare() *pb.Compare {
	c := &pb.Compare{Target: cmp.target, Result: cmp.result, Key: cmp.key, RangeEnd: cmp.rangeEnd}
	switch cmp.target {
	case pb.Compare_VALUE:
		c.TargetUnion = &pb.Compare_Value{Value: cmp.value}
	case pb.Compare_VERSION:
		c.TargetUnion = &pb.Compare_Version{Version: cmp.version}
	case pb.Compare_CREATE:
		c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: cmp.create}
	case pb.Compare_MOD:
		c.TargetUnion = &pb.Compare_ModRevision{ModRevision: cmp.mod}
	case pb.Compare_LEASE:
		c.TargetUnion = &pb.Compare_Lease{Lease: cmp.lease}
	}
	return c
}

// Clone returns a copy of the Cmp that shares no memory with it.
func (cmp *Cmp) Clone() Cmp {
	c := *cmp
	c.key = bytes.Clone(cmp.key)
	c.rangeEnd = bytes.Clone(cmp.rangeEnd)
	c.value = bytes.Clone(cmp.value)
	return c
}

// Err returns what was wrong with the Cmp, or nil.
func (cmp Cmp) Err() error { return cmp.err }

// Compare sets the relation ("=", "==", "!=", "<", ">") and the value to
// compare with: a string (or []byte) for Value, an integer for Version,
// CreateRevision and ModRevision (not a LeaseID), a LeaseID or integer for
// LeaseValue. Where clientv3 panics on an operator or value it does not
// take, the Cmp carries the error, and Txn.Commit returns it.
func Compare(cmp Cmp, result string, v any) Cmp {
	switch result {
	case "=", "==":
		cmp.result = pb.Compare_EQUAL
	case "!=":
		cmp.result = pb.Compare_NOT_EQUAL
	case "<":
		cmp.result = pb.Compare_LESS
	case ">":
		cmp.result = pb.Compare_GREATER
	default:
		cmp.fail(invalidArg("compare on key %q: unknown operator %q (want =, ==, !=, < or >)", cmp.key, result))
	}
	switch cmp.target {
	case pb.Compare_VALUE:
		switch s := v.(type) {
		case string:
			cmp.value = []byte(s)
		case []byte:
			cmp.value = s
		default:
			cmp.fail(invalidArg("compare value of key %q: want a string, got %T", cmp.key, v))
		}
	case pb.Compare_VERSION, pb.Compare_CREATE, pb.Compare_MOD, pb.Compare_LEASE:
		n, ok := toInt64(v)
		if _, isLease := v.(LeaseID); isLease && cmp.target != pb.Compare_LEASE {
			// A lease id where a version or revision belongs is a mix-up
			// that clientv3 refuses too (with a panic).
			ok = false
		}
		if !ok {
			cmp.fail(invalidArg("compare %s of key %q: want an integer, got %T", cmp.target, cmp.key, v))
		}
		switch cmp.target {
		case pb.Compare_VERSION:
			cmp.version = n
		case pb.Compare_CREATE:
			cmp.create = n
		case pb.Compare_MOD:
			cmp.mod = n
		case pb.Compare_LEASE:
			cmp.lease = n
		}
	}
	return cmp
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case LeaseID:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), n <= 1<<63-1
	}
	return 0, false
}

func (cmp *Cmp) fail(err error) {
	if cmp.err == nil {
		cmp.err = err
	}
}

// Value compares the value of key.
func Value(key string) Cmp { return Cmp{key: []byte(key), target: pb.Compare_VALUE} }

// Version compares the version of key (0 when absent).
func Version(key string) Cmp { return Cmp{key: []byte(key), target: pb.Compare_VERSION} }

// CreateRevision compares the create revision of key (0 when absent).
func CreateRevision(key string) Cmp { return Cmp{key: []byte(key), target: pb.Compare_CREATE} }

// ModRevision compares the mod revision of key (0 when absent).
func ModRevision(key string) Cmp { return Cmp{key: []byte(key), target: pb.Compare_MOD} }

// LeaseValue compares the lease of key (0 when none).
func LeaseValue(key string) Cmp { return Cmp{key: []byte(key), target: pb.Compare_LEASE} }

// KeyBytes returns the key compared.
func (cmp *Cmp) KeyBytes() []byte { return cmp.key }

// WithKeyBytes sets the key compared.
func (cmp *Cmp) WithKeyBytes(key []byte) { cmp.key = key }

// ValueBytes returns the value compared with, for a Value compare.
func (cmp *Cmp) ValueBytes() []byte { return cmp.value }

// WithValueBytes sets the value compared with.
func (cmp *Cmp) WithValueBytes(v []byte) { cmp.value = v }

// RangeBytes returns the range end of a compare over a range.
func (cmp *Cmp) RangeBytes() []byte { return cmp.rangeEnd }

// WithRange makes the compare hold for every key in [key, end).
func (cmp Cmp) WithRange(end string) Cmp {
	cmp.rangeEnd = []byte(end)
	return cmp
}

// WithPrefix makes the compare hold for every key with the compare's key as
// prefix.
func (cmp Cmp) WithPrefix() Cmp {
	if len(cmp.key) == 0 {
		cmp.key, cmp.rangeEnd = []byte{0}, []byte{0}
		return cmp
	}
	cmp.rangeEnd = prefixEnd(cmp.key)
	return cmp
}

func (cmp *Cmp) validate() error {
	if cmp.err != nil {
		return cmp.err
	}
	if len(cmp.key) == 0 {
		return fmt.Errorf("compare: %w", rpctypes.ErrEmptyKey)
	}
	return nil
}
