package bindings

import (
	"fmt"
	"strconv"

	lua "github.com/yuin/gopher-lua"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// cmpObj is an etcd.cmp.* value: one compare of a txn.
type cmpObj struct{ cmp client.Cmp }

// opObj is an etcd.op.* value: one operation of a txn.
type opObj struct {
	op   client.Op
	kind string // get, put, delete or txn
}

// txnObj is the builder etcd.txn() returns.
type txnObj struct {
	c       *conn
	cmps    []client.Cmp
	success []client.Op
	failure []client.Op
}

var (
	cmpRangeOptions = luart.NewOptionSet("prefix", "range_end")
	txnTableOptions = luart.NewOptionSet("compare", "success", "failure")
)

// cmpOperators maps the operators scripts write to the client's. "~=" is
// Lua's own spelling of "!=".
var cmpOperators = map[string]string{"==": "=", "=": "=", "!=": "!=", "~=": "!=", "<": "<", ">": ">"}

// cmpTable builds etcd.cmp.
func (m *Module) cmpTable(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 5)
	add := func(name string, target func(string) client.Cmp, value func(a luart.Args, n int) any) {
		fn := "etcd.cmp." + name
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			a := luart.Args{L: L, Fn: fn}
			key := a.String(1, "key")
			opStr := a.String(2, "op")
			op, ok := cmpOperators[opStr]
			if !ok {
				a.Fail(2, "op", "compare operator must be \"==\", \"=\", \"!=\", \"<\" or \">\", got %q", opStr)
			}
			if L.GetTop() < 3 {
				a.Fail(3, "value", "value expected, got no value")
			}
			v := value(a, 3)
			o := a.Options(4, "range", cmpRangeOptions)
			prefix := o.Bool("prefix", false)
			hasEnd := o.IsSet("range_end")
			if prefix && hasEnd {
				o.Fail("range_end", "cannot be combined with prefix")
			}
			if key == "" && !prefix {
				a.Key(1, "key") // raises empty_key
			}
			cmp := client.Compare(target(key), op, v)
			switch {
			case prefix:
				cmp = cmp.WithPrefix()
			case hasEnd:
				cmp = cmp.WithRange(o.String("range_end", ""))
			}
			L.Push(newObject(L, &cmpObj{cmp: cmp}, m.mt.cmp))
			return 1
		}))
	}
	add("value", client.Value, func(a luart.Args, n int) any { return a.String(n, "value") })
	add("version", client.Version, func(a luart.Args, n int) any {
		v := a.Int(n, "version")
		if v < 0 {
			a.Fail(n, "version", "must not be negative, got %d", v)
		}
		return v
	})
	add("create_revision", client.CreateRevision, func(a luart.Args, n int) any { return a.Revision(n, "rev") })
	add("mod_revision", client.ModRevision, func(a luart.Args, n int) any { return a.Revision(n, "rev") })
	add("lease", client.LeaseValue, func(a luart.Args, n int) any { return argLease(a, n, "lease") })
	return t
}

func (m *Module) cmpMeta(L *lua.LState) *lua.LTable {
	return newClass(L, "etcd.cmp", nil, func(L *lua.LState) int {
		c, ok := L.CheckUserData(1).Value.(*cmpObj)
		if !ok {
			return pushString(L, "etcd.cmp")
		}
		return pushString(L, describeCmp(&c.cmp))
	})
}

var cmpTargetNames = map[pb.Compare_CompareTarget]string{
	pb.Compare_VERSION: "version", pb.Compare_CREATE: "create_revision", pb.Compare_MOD: "mod_revision",
	pb.Compare_VALUE: "value", pb.Compare_LEASE: "lease",
}

var cmpResultNames = map[pb.Compare_CompareResult]string{
	pb.Compare_EQUAL: "==", pb.Compare_GREATER: ">", pb.Compare_LESS: "<", pb.Compare_NOT_EQUAL: "!=",
}

// describeCmp prints a compare as the call that made it.
func describeCmp(c *client.Cmp) string {
	p := c.GetCompare()
	var v string
	switch u := p.TargetUnion.(type) {
	case *pb.Compare_Value:
		v = strconv.Quote(string(u.Value))
	case *pb.Compare_Version:
		v = strconv.FormatInt(u.Version, 10)
	case *pb.Compare_CreateRevision:
		v = strconv.FormatInt(u.CreateRevision, 10)
	case *pb.Compare_ModRevision:
		v = strconv.FormatInt(u.ModRevision, 10)
	case *pb.Compare_Lease:
		v = strconv.Quote(string(leaseHex(u.Lease)))
	}
	s := fmt.Sprintf("etcd.cmp.%s(%q, %q, %s", cmpTargetNames[p.Target], p.Key, cmpResultNames[p.Result], v)
	if len(p.RangeEnd) > 0 {
		s += fmt.Sprintf(", {range_end = %q}", p.RangeEnd)
	}
	return s + ")"
}

// opTable builds etcd.op.
func (m *Module) opTable(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
		a := luart.Args{L: L, Fn: "etcd.op.get"}
		key := a.String(1, "key")
		o := a.Options(2, "opts", rangeOptions)
		keyArg(a, 1, key, wholeSpace(&o))
		L.Push(m.newOp(L, client.OpGet(key, rangeOpts(&o, nil)...), "get"))
		return 1
	}))
	t.RawSetString("put", L.NewFunction(func(L *lua.LState) int {
		a := luart.Args{L: L, Fn: "etcd.op.put"}
		key := a.String(1, "key")
		o := a.Options(3, "opts", putOptions)
		var value string
		if !(o.Raw() != nil && o.Bool("ignore_value", false) && L.Get(2) == lua.LNil) {
			value = a.String(2, "value")
		}
		keyArg(a, 1, key, false)
		L.Push(m.newOp(L, client.OpPut(key, value, putOpts(&o, nil)...), "put"))
		return 1
	}))
	t.RawSetString("delete", L.NewFunction(func(L *lua.LState) int {
		a := luart.Args{L: L, Fn: "etcd.op.delete"}
		key := a.String(1, "key")
		o := a.Options(2, "opts", deleteOptions)
		keyArg(a, 1, key, false)
		L.Push(m.newOp(L, client.OpDelete(key, deleteOpts(&o, nil)...), "delete"))
		return 1
	}))
	t.RawSetString("txn", L.NewFunction(func(L *lua.LState) int {
		const fn = "etcd.op.txn"
		a := luart.Args{L: L, Fn: fn}
		var cmps []client.Cmp
		var succ, fail []client.Op
		switch v := L.Get(1).(type) {
		case *lua.LUserData:
			b, ok := v.Value.(*txnObj)
			if !ok {
				a.Fail(1, "txn", "txn builder or table expected, got %s", describeValue(v))
			}
			cmps, succ, fail = b.cmps, b.success, b.failure
		case *lua.LTable:
			cmps, succ, fail = txnFromTable(a, 1)
		default:
			a.Fail(1, "txn", "txn builder or table expected, got %s", L.Get(1).Type().String())
		}
		L.Push(m.newOp(L, client.OpTxn(cmps, succ, fail), "txn"))
		return 1
	}))
	return t
}

func (m *Module) newOp(L *lua.LState, op client.Op, kind string) *lua.LUserData {
	return newObject(L, &opObj{op: op, kind: kind}, m.mt.op)
}

func (m *Module) opMeta(L *lua.LState) *lua.LTable {
	return newClass(L, "etcd.op", nil, func(L *lua.LState) int {
		o, ok := L.CheckUserData(1).Value.(*opObj)
		if !ok {
			return pushString(L, "etcd.op")
		}
		if o.kind == "txn" {
			return pushString(L, "etcd.op.txn(...)")
		}
		return pushString(L, fmt.Sprintf("etcd.op.%s(%q)", o.kind, o.op.KeyBytes()))
	})
}

// describeValue names a value's type for messages, telling the module's
// objects apart.
func describeValue(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		switch ud.Value.(type) {
		case *cmpObj:
			return "etcd.cmp value"
		case *opObj:
			return "etcd.op value"
		case *txnObj:
			return "txn builder"
		case *leaseObj:
			return "lease object"
		}
	}
	return v.Type().String()
}

// collectCmps appends the compares at stack positions from..top (each a
// compare, or an array of compares).
func collectCmps(a luart.Args, from int, name string, dst []client.Cmp) []client.Cmp {
	return collect(a, from, name, "etcd.cmp", asCmp, dst)
}

// collectOps appends the operations at stack positions from..top (each an
// op, or an array of ops).
func collectOps(a luart.Args, from int, name string, dst []client.Op) []client.Op {
	return collect(a, from, name, "etcd.op", asOp, dst)
}

// collect appends the values at stack positions from..top, each a value
// that as accepts or an array of them; want names the kind for errors.
func collect[T any](a luart.Args, from int, name, want string, as func(lua.LValue) (T, bool), dst []T) []T {
	top := a.L.GetTop()
	for n := from; n <= top; n++ {
		v := a.L.Get(n)
		if t, ok := v.(*lua.LTable); ok {
			dst = fromArray(a, n, name, want, t, as, dst)
			continue
		}
		x, ok := as(v)
		if !ok {
			a.Fail(n, name, "%s value expected, got %s", want, describeValue(v))
		}
		dst = append(dst, x)
	}
	return dst
}

func asCmp(v lua.LValue) (client.Cmp, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		if c, ok := ud.Value.(*cmpObj); ok {
			return c.cmp, true
		}
	}
	return client.Cmp{}, false
}

func asOp(v lua.LValue) (client.Op, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		if o, ok := ud.Value.(*opObj); ok {
			return o.op, true
		}
	}
	return client.Op{}, false
}

// fromArray appends the elements of the array t (argument n) that as
// accepts, refusing any other element or key.
func fromArray[T any](a luart.Args, n int, name, want string, t *lua.LTable, as func(lua.LValue) (T, bool), dst []T) []T {
	size := t.Len()
	for i := 1; i <= size; i++ {
		x, ok := as(t.RawGetInt(i))
		if !ok {
			a.Fail(n, name+"["+strconv.Itoa(i)+"]", "%s value expected, got %s", want, describeValue(t.RawGetInt(i)))
		}
		dst = append(dst, x)
	}
	checkArrayOnly(a, n, name, t, size)
	return dst
}

// checkArrayOnly refuses a table with keys beyond its array part: a list of
// compares or ops with a named field is a mistake (compare = {x = ...}).
func checkArrayOnly(a luart.Args, n int, name string, t *lua.LTable, size int) {
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if i, ok := k.(lua.LNumber); ok && float64(i) >= 1 && float64(i) <= float64(size) && float64(i) == float64(int(i)) {
			continue
		}
		a.Fail(n, name, "array expected, found the key %s", k.String())
	}
}

// txnFromTable reads the table form {compare = {...}, success = {...},
// failure = {...}} at n.
func txnFromTable(a luart.Args, n int) ([]client.Cmp, []client.Op, []client.Op) {
	o := a.Options(n, "txn", txnTableOptions)
	var cmps []client.Cmp
	var succ, fail []client.Op
	if t := o.Table("compare"); t != nil {
		cmps = fromArray(a, n, "txn.compare", "etcd.cmp", t, asCmp, nil)
	}
	if t := o.Table("success"); t != nil {
		succ = fromArray(a, n, "txn.success", "etcd.op", t, asOp, nil)
	}
	if t := o.Table("failure"); t != nil {
		fail = fromArray(a, n, "txn.failure", "etcd.op", t, asOp, nil)
	}
	return cmps, succ, fail
}

// txn is etcd.txn(): a builder; or etcd.txn{compare=, success=, failure=},
// which commits at once.
func (c *conn) txn(L *lua.LState) int {
	const fn = "etcd.txn"
	a := c.args(L, fn)
	b := c.off
	switch v := L.Get(b + 1).(type) {
	case *lua.LNilType:
		L.Push(newObject(L, &txnObj{c: c}, c.m.mt.txn))
		return 1
	case *lua.LTable:
		cmps, succ, fail := txnFromTable(a, b+1)
		L.Push(c.commitTxn(L, cmps, succ, fail))
		return 1
	default:
		a.Fail(b+1, "txn", "table or nothing expected, got %s", describeValue(v))
	}
	return 0
}

// commitTxn sends a txn and converts its response.
func (c *conn) commitTxn(L *lua.LState, cmps []client.Cmp, succ, fail []client.Op) *lua.LTable {
	const fn = "etcd.txn"
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	ctx, cancel := c.callCtx()
	resp, err := kv.Txn(ctx).If(cmps...).Then(succ...).Else(fail...).Commit()
	cancel()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	return txnTable(L, (*pb.TxnResponse)(resp), headerRev(resp.Header))
}

func (m *Module) txnMeta(L *lua.LState) *lua.LTable {
	return newClass(L, "etcd.txn", map[string]lua.LGFunction{
		"compare": func(L *lua.LState) int {
			t := selfObject[*txnObj](L, "txn:compare", "txn builder")
			t.cmps = collectCmps(luart.Args{L: L, Fn: "txn:compare", Offset: 1}, 2, "cmp", t.cmps)
			L.Push(L.Get(1))
			return 1
		},
		"success": func(L *lua.LState) int {
			t := selfObject[*txnObj](L, "txn:success", "txn builder")
			t.success = collectOps(luart.Args{L: L, Fn: "txn:success", Offset: 1}, 2, "op", t.success)
			L.Push(L.Get(1))
			return 1
		},
		"failure": func(L *lua.LState) int {
			t := selfObject[*txnObj](L, "txn:failure", "txn builder")
			t.failure = collectOps(luart.Args{L: L, Fn: "txn:failure", Offset: 1}, 2, "op", t.failure)
			L.Push(L.Get(1))
			return 1
		},
		"commit": func(L *lua.LState) int {
			t := selfObject[*txnObj](L, "txn:commit", "txn builder")
			if L.GetTop() > 1 {
				luart.ArgError(L, "txn:commit", "#1", "commit takes no arguments, got %s", L.Get(2).Type().String())
			}
			L.Push(t.c.commitTxn(L, t.cmps, t.success, t.failure))
			return 1
		},
	}, func(L *lua.LState) int { return pushString(L, "etcd.txn builder") })
}
