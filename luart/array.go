package luart

import (
	lua "github.com/yuin/gopher-lua"
)

// Registry keys of the per-state array metatable and null sentinel.
const (
	arrayMetatableKey = "etcdscript.array"
	nullKey           = "etcdscript.null"
)

// ArrayTypeField is the metatable field that marks a table as an array
// (value "array") for the encoders. Tables made by NewArray or MarkArray
// carry a shared metatable with it; a script that has its own metatable on
// a table can set the field there to the same effect.
const ArrayTypeField = "__jsontype"

// NewArray returns an empty table marked as an array, sized for n elements.
// Bindings and modules return lists this way, so that an empty list encodes
// as [] rather than {}.
func NewArray(L *lua.LState, n int) *lua.LTable {
	t := L.CreateTable(n, 0)
	t.Metatable = arrayMetatable(L)
	return t
}

// MarkArray marks t as an array. It reports false, leaving t unchanged, when
// t already has a metatable that does not mark it: replacing a script's own
// metatable would break the script.
func MarkArray(L *lua.LState, t *lua.LTable) bool {
	switch t.Metatable {
	case lua.LNil, nil:
		t.Metatable = arrayMetatable(L)
		return true
	}
	return IsArray(t)
}

// IsArray reports whether t is marked as an array.
func IsArray(t *lua.LTable) bool {
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return false
	}
	return mt.RawGetString(ArrayTypeField) == lua.LString("array")
}

func arrayMetatable(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if mt, ok := reg.RawGetString(arrayMetatableKey).(*lua.LTable); ok {
		return mt
	}
	mt := L.CreateTable(0, 1)
	mt.RawSetString(ArrayTypeField, lua.LString("array"))
	reg.RawSetString(arrayMetatableKey, mt)
	return mt
}

// Null returns the state's null sentinel (json.null, yaml.null): a unique
// value that stands for JSON null and YAML null where a Lua nil would vanish,
// such as inside arrays. It prints as "null".
func Null(L *lua.LState) lua.LValue {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if v := reg.RawGetString(nullKey); v != lua.LNil {
		return v
	}
	ud := L.NewUserData()
	ud.Value = nullValue{}
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("null"))
	ud.Metatable = mt
	reg.RawSetString(nullKey, ud)
	return ud
}

// nullValue is the Go value inside the null sentinel.
type nullValue struct{}

// IsNull reports whether v is the null sentinel.
func IsNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(nullValue)
	return ok
}
