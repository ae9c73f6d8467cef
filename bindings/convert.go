package bindings

import (
	"strconv"

	lua "github.com/yuin/gopher-lua"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// Results are built lean: tables sized up front, no per-call closures, and
// the hex strings of the cluster and member ids (the same in nearly every
// header) cached, because building result tables is what a tight Lua loop
// of calls pays for beyond the round trip.

// idCache remembers the hex form of the last cluster and member id seen.
type idCache struct {
	cluster, member   uint64
	clusterS, memberS lua.LString
}

func (c *idCache) clusterID(id uint64) lua.LString {
	if id != c.cluster || c.clusterS == "" {
		c.cluster, c.clusterS = id, hexUint(id)
	}
	return c.clusterS
}

func (c *idCache) memberID(id uint64) lua.LString {
	if id != c.member || c.memberS == "" {
		c.member, c.memberS = id, hexUint(id)
	}
	return c.memberS
}

// hexUint formats an id the way etcdctl prints it: lowercase hex, no 0x.
func hexUint(id uint64) lua.LString { return lua.LString(strconv.FormatUint(id, 16)) }

// leaseHex is the LEASE_ID of docs/lua.md: ids are 63-bit, beyond what a Lua
// number holds exactly, so they travel as hex strings. They are zero-padded
// to 16 digits as etcdctl prints them (%016x), so that a script comparing
// ids with etcdctl's output (or sorting them as strings) is not wrong for
// the one id in sixteen whose top digit is 0. Member and cluster ids stay
// unpadded (hexUint), as etcdctl prints those.
func leaseHex(id int64) lua.LString {
	var b [16]byte
	s := strconv.AppendUint(b[:0], uint64(id), 16)
	if len(s) == 16 {
		return lua.LString(s)
	}
	return lua.LString("0000000000000000"[:16-len(s)] + string(s))
}

// num boxes an integer as a Lua number. Integers from etcd (revisions,
// versions, counts) stay far below 2^53. Small ones (versions, counts)
// come boxed in advance: boxing a number allocates.
func num(n int64) lua.LValue {
	if n >= 0 && n < int64(len(smallNums)) {
		return smallNums[n]
	}
	return lua.LNumber(n)
}

var smallNums = func() (t [1024]lua.LValue) {
	for i := range t {
		t[i] = lua.LNumber(i)
	}
	return t
}()

// noState makes tables on any goroutine. In gopher-lua v1.1.2,
// LState.CreateTable reads nothing of its state: a table is plain Go memory
// until it is handed to the state. Watches build their event tables on their
// own goroutine this way, so that the script's thread only runs callbacks.
// (Were CreateTable ever to use its state, this nil state would panic at
// once rather than race.)
var noState *lua.LState

// newTable returns an empty table sized for acap array and hcap hash
// entries; it is safe on any goroutine.
func newTable(acap, hcap int) *lua.LTable { return noState.CreateTable(acap, hcap) }

// Shapes of the tables made most often: a scan or a watch makes one
// key-value table per key.
var (
	kvShape      = luart.NewShape("key", "value", "create_revision", "mod_revision", "version")
	kvLeaseShape = luart.NewShape("key", "value", "create_revision", "mod_revision", "version", "lease")
	headerShape  = luart.NewShape("revision", "cluster_id", "member_id", "raft_term")
	rangeShape   = luart.NewShape("kvs", "count", "more", "revision")
	revShape     = luart.NewShape("revision")
	putPrevShape = luart.NewShape("revision", "prev_kv")
	eventShape   = luart.NewShape("type", "kv", "revision", "prev_kv")
)

// kvTable converts a key-value: {key, value, create_revision, mod_revision,
// version, lease}, lease absent (nil) when the key has none. It uses no
// state, so it may run on any goroutine.
func kvTable(kv *mvccpb.KeyValue) *lua.LTable {
	if kv.Lease != 0 {
		return kvLeaseShape.New(lua.LString(kv.Key), lua.LString(kv.Value), num(kv.CreateRevision),
			num(kv.ModRevision), num(kv.Version), leaseHex(kv.Lease))
	}
	return kvShape.New(lua.LString(kv.Key), lua.LString(kv.Value), num(kv.CreateRevision),
		num(kv.ModRevision), num(kv.Version))
}

// kvTableEncoded converts a key-value from its protobuf encoding (as
// client.RangeReader.NextEncoded returns it) to the table kvTable makes,
// copying each key and value once, straight into a Lua string.
func kvTableEncoded(b []byte) (*lua.LTable, error) {
	var key, value lua.LString
	var create, mod, version, lease int64
	for len(b) > 0 {
		field, wire, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case wire == protowire.BytesType && (field == 1 || field == 5):
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			if field == 1 {
				key = lua.LString(v)
			} else {
				value = lua.LString(v)
			}
			b = b[n:]
		case wire == protowire.VarintType && field >= 2 && field <= 6 && field != 5:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			switch field {
			case 2:
				create = int64(v)
			case 3:
				mod = int64(v)
			case 4:
				version = int64(v)
			case 6:
				lease = int64(v)
			}
			b = b[n:]
		default:
			// A field a later server may add.
			n := protowire.ConsumeFieldValue(field, wire, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	if lease != 0 {
		return kvLeaseShape.New(key, value, num(create), num(mod), num(version), leaseHex(lease)), nil
	}
	return kvShape.New(key, value, num(create), num(mod), num(version)), nil
}

// kvArray converts key-values to an array marked as one, so an empty list
// encodes as [] in JSON.
func kvArray(L *lua.LState, kvs []*mvccpb.KeyValue) *lua.LTable {
	t := luart.NewArray(L, len(kvs))
	for _, kv := range kvs {
		t.Append(kvTable(kv))
	}
	return t
}

// headerTable converts a response header: {revision, cluster_id,
// member_id, raft_term}, ids as hex strings.
func (m *Module) headerTable(L *lua.LState, h *pb.ResponseHeader) *lua.LTable {
	if h == nil {
		return L.CreateTable(0, 4)
	}
	return headerShape.New(num(h.Revision), m.ids.clusterID(h.ClusterId), m.ids.memberID(h.MemberId), lua.LNumber(h.RaftTerm))
}

// rangeTable converts a range response: {kvs, count, more, revision}.
func rangeTable(L *lua.LState, r *pb.RangeResponse, rev int64) *lua.LTable {
	return rangeShape.New(kvArray(L, r.Kvs), num(r.Count), lua.LBool(r.More), num(rev))
}

// putTable converts a put response: {revision, prev_kv}.
func putTable(L *lua.LState, r *pb.PutResponse, rev int64) *lua.LTable {
	if r.PrevKv != nil {
		return putPrevShape.New(num(rev), kvTable(r.PrevKv))
	}
	return revShape.New(num(rev))
}

// deleteTable converts a delete response: {deleted, prev_kvs, revision}.
func deleteTable(L *lua.LState, r *pb.DeleteRangeResponse, rev int64) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("deleted", num(r.Deleted))
	t.RawSetString("prev_kvs", kvArray(L, r.PrevKvs))
	t.RawSetString("revision", num(rev))
	return t
}

// txnTable converts a txn response: {succeeded, revision, responses}, each
// response with op = "get"|"put"|"delete"|"txn" and the fields of that
// operation's result. Nested responses carry the revision of the whole txn,
// the one at which all of it happened.
func txnTable(L *lua.LState, r *pb.TxnResponse, rev int64) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("succeeded", lua.LBool(r.Succeeded))
	t.RawSetString("revision", num(rev))
	resps := luart.NewArray(L, len(r.Responses))
	for _, ro := range r.Responses {
		var rt *lua.LTable
		var op string
		switch x := ro.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			rt, op = rangeTable(L, x.ResponseRange, rev), "get"
		case *pb.ResponseOp_ResponsePut:
			rt, op = putTable(L, x.ResponsePut, rev), "put"
		case *pb.ResponseOp_ResponseDeleteRange:
			rt, op = deleteTable(L, x.ResponseDeleteRange, rev), "delete"
		case *pb.ResponseOp_ResponseTxn:
			rt, op = txnTable(L, x.ResponseTxn, rev), "txn"
		default:
			rt, op = L.CreateTable(0, 1), "unknown"
		}
		rt.RawSetString("op", lua.LString(op))
		resps.Append(rt)
	}
	t.RawSetString("responses", resps)
	return t
}

// headerRev returns the revision of a header, 0 when there is none.
func headerRev(h *pb.ResponseHeader) int64 {
	if h == nil {
		return 0
	}
	return h.Revision
}

// parseLeaseID reads a LEASE_ID: a hex string (as etcdctl prints ids; "0"
// means no lease), or a lease object. It reports what is wrong otherwise.
func parseLeaseID(v lua.LValue) (client.LeaseID, string) {
	switch x := v.(type) {
	case lua.LString:
		s := string(x)
		if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
			s = s[2:]
		}
		id, err := strconv.ParseUint(s, 16, 63)
		if err != nil || s == "" {
			return 0, "lease id must be a hex string such as \"694d7a1b2c3d4e5f\", got " + strconv.Quote(string(x))
		}
		return client.LeaseID(id), ""
	case *lua.LUserData:
		if l, ok := x.Value.(*leaseObj); ok {
			return l.id, ""
		}
	case lua.LNumber:
		return 0, "lease ids are hex strings (a number cannot hold a 63-bit id exactly), got the number " + x.String()
	}
	return 0, "lease object or hex id string expected, got " + v.Type().String()
}

// argLease reads the lease argument at n.
func argLease(a luart.Args, n int, name string) client.LeaseID {
	id, msg := parseLeaseID(a.L.Get(n))
	if msg != "" {
		a.Fail(n, name, "%s", msg)
	}
	return id
}

// optLease reads an optional lease option.
func optLease(o *luart.Options, key string) (client.LeaseID, bool) {
	v := o.Value(key)
	if v == lua.LNil {
		return 0, false
	}
	id, msg := parseLeaseID(v)
	if msg != "" {
		o.Fail(key, "%s", msg)
	}
	return id, true
}
