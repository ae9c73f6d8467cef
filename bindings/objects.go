package bindings

import (
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Objects the module hands to scripts (leases, watchers, txn builders,
// compares, operations, locks, elections) are userdata with one metatable
// per kind, made once per state: a method reads its object from self, so
// no object carries closures of its own.
type metatables struct {
	lease, watch, txn, cmp, op, lock, election, scan, observer *lua.LTable
}

// all lists every metatable, for Methods: a kind added above belongs here
// too (the editor's test then asks for its definitions).
func (t metatables) all() []*lua.LTable {
	return []*lua.LTable{t.lease, t.watch, t.txn, t.cmp, t.op, t.lock, t.election, t.scan, t.observer}
}

func newMetatables(m *Module, L *lua.LState) metatables {
	return metatables{
		lease:    m.leaseMeta(L),
		watch:    m.watchMeta(L),
		txn:      m.txnMeta(L),
		cmp:      m.cmpMeta(L),
		op:       m.opMeta(L),
		lock:     m.lockMeta(L),
		election: m.electionMeta(L),
		scan:     m.scanMeta(L),
		observer: m.observerMeta(L),
	}
}

// newClass returns a metatable whose __index is the table of methods, and
// whose __tostring and __metatable name the kind.
func newClass(L *lua.LState, kind string, methods map[string]lua.LGFunction, tostring lua.LGFunction) *lua.LTable {
	idx := L.CreateTable(0, len(methods))
	for name, fn := range methods {
		idx.RawSetString(name, L.NewFunction(fn))
	}
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", idx)
	mt.RawSetString("__tostring", L.NewFunction(tostring))
	mt.RawSetString("__metatable", lua.LString(kind))
	return mt
}

// newFieldClass returns a metatable whose __index is a Go function, for
// objects with fields computed from their Go value (lease.id, lock.key)
// as well as methods; get returns the field's value or nil.
func newFieldClass(L *lua.LState, kind string, methods map[string]lua.LGFunction, get func(L *lua.LState, self lua.LValue, key string) lua.LValue, tostring lua.LGFunction) *lua.LTable {
	fns := make(map[string]lua.LValue, len(methods))
	idx := L.CreateTable(0, len(methods))
	for name, fn := range methods {
		fns[name] = L.NewFunction(fn)
		idx.RawSetString(name, fns[name])
	}
	mt := L.CreateTable(0, 4)
	// The methods as a table too, for Methods: __index is a function here.
	mt.RawSetString(methodsField, idx)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		key, _ := L.Get(2).(lua.LString)
		if f, ok := fns[string(key)]; ok {
			L.Push(f)
			return 1
		}
		L.Push(get(L, L.Get(1), string(key)))
		return 1
	}))
	mt.RawSetString("__tostring", L.NewFunction(tostring))
	mt.RawSetString("__metatable", lua.LString(kind))
	return mt
}

// methodsField names the table of methods in the metatable of a class
// whose __index is a function. Scripts cannot reach it: __metatable hides
// the metatable.
const methodsField = "__methods"

// ClientKind is the kind of the objects etcd.connect returns, as
// getmetatable names it.
const ClientKind = "etcd.client"

// Methods returns, for each kind of object the module hands to scripts
// (named as getmetatable and tostring name it: "etcd.lease",
// "etcd.watcher", ..., and ClientKind for the objects of etcd.connect), the
// sorted names of its methods. It builds the module's table in L if that
// was not done yet. Tools that describe the API use it: the editor's
// definitions are tested against it.
func (m *Module) Methods(L *lua.LState) map[string][]string {
	m.Table(L)
	out := map[string][]string{}
	for _, mt := range m.mt.all() {
		kind := lua.LVAsString(mt.RawGetString("__metatable"))
		idx, ok := mt.RawGetString("__index").(*lua.LTable)
		if !ok {
			idx, _ = mt.RawGetString(methodsField).(*lua.LTable)
		}
		var names []string
		if idx != nil {
			idx.ForEach(func(k, v lua.LValue) {
				if _, ok := v.(*lua.LFunction); ok {
					names = append(names, k.String())
				}
			})
		}
		sort.Strings(names)
		out[kind] = names
	}
	names := []string{"close"}
	for _, f := range connFuncs {
		names = append(names, f.name)
	}
	sort.Strings(names)
	out[ClientKind] = names
	return out
}

// newObject wraps v as a userdata with metatable mt.
func newObject(L *lua.LState, v any, mt *lua.LTable) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	ud.Metatable = mt
	return ud
}

// selfObject returns the Go value of the object a method was called on,
// raising invalid_argument when it was called with a dot or on something
// else.
func selfObject[T any](L *lua.LState, fn, kind string) T {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	luart.ArgError(L, fn, "#0 (self)", "%s expected: call it as a method (obj:%s(...)), got %s", kind, methodName(fn), L.Get(1).Type().String())
	var zero T
	return zero
}

// methodName returns the part of "lease:ttl" after the colon.
func methodName(fn string) string {
	for i := len(fn) - 1; i >= 0; i-- {
		if fn[i] == ':' || fn[i] == '.' {
			return fn[i+1:]
		}
	}
	return fn
}

// describeAs returns a __tostring that shows an object of kind as
// kind(describe(v)), and as kind alone when its value is not a T.
func describeAs[T any](kind string, describe func(T) string) lua.LGFunction {
	return func(L *lua.LState) int {
		v, ok := L.CheckUserData(1).Value.(T)
		if !ok {
			return pushString(L, kind)
		}
		return pushString(L, kind+"("+describe(v)+")")
	}
}

// pushString pushes a string result and returns 1.
func pushString(L *lua.LState, s string) int {
	L.Push(lua.LString(s))
	return 1
}

// Options returns the names of the options each call takes in its options
// table, by the call's name ("etcd.watch") or, for a method, its object's
// kind and its name ("etcd.election:campaign"). Client objects take the
// options of the module's functions of the same name. Tools that describe
// the API use it: the editor's definitions are tested against it.
func Options() map[string][]string {
	sets := map[string]*luart.OptionSet{
		"etcd.connect": connectOptions, "etcd.get": getOptions, "etcd.range": rangeOptions,
		"etcd.scan": scanOptions, "etcd.put": putOptions, "etcd.delete": deleteOptions,
		"etcd.compact": compactOpts, "etcd.put_many": putManyOptions, "etcd.txn": txnTableOptions,
		"etcd.watch": watchOptions, "etcd.lock": lockOptions, "etcd.election": electionOptions,
		"etcd.op.get": rangeOptions, "etcd.op.put": putOptions, "etcd.op.delete": deleteOptions,
		"etcd.op.txn":          txnTableOptions,
		"etcd.lease:keepalive": keepaliveOptions, "etcd.lease:ttl": ttlOptions,
		"etcd.election:campaign": campaignOptions,
	}
	for _, c := range []string{"value", "version", "create_revision", "mod_revision", "lease"} {
		sets["etcd.cmp."+c] = cmpRangeOptions
	}
	return luart.OptionNames(sets)
}
