package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Objects the module hands to scripts (leases, watchers, txn builders,
// compares, operations, locks, elections) are userdata with one metatable
// per kind, made once per state: a method reads its object from self, so
// no object carries closures of its own.
type metatables struct {
	lease, watch, txn, cmp, op, lock, election *lua.LTable
	observer                                   *lua.LTable
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
	for name, fn := range methods {
		fns[name] = L.NewFunction(fn)
	}
	mt := L.CreateTable(0, 3)
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

// pushString pushes a string result and returns 1.
func pushString(L *lua.LState, s string) int {
	L.Push(lua.LString(s))
	return 1
}
