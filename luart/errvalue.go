package luart

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// errorMetatableKey names the error metatable in the registry: one per state,
// made on first use.
const errorMetatableKey = "etcdscript.error"

// ErrorValue wraps e as the Lua value scripts see: a userdata whose fields
// code, message, op, key and retryable read from e, whose tostring is
// e.Error(), and which compares equal (==) to another error object with the
// same code, message, op and key.
func ErrorValue(L *lua.LState, e *Error) lua.LValue {
	ud := L.NewUserData()
	ud.Value = e
	ud.Metatable = errorMetatable(L)
	return ud
}

// Raise raises e as a Lua error. The value travels through pcall intact, so
// `local ok, err = pcall(f)` gives the object itself and err.code works. Raise
// records where in the script the failing call was made, unless e already
// says. It does not return.
func Raise(L *lua.LState, e *Error) {
	if e.Where == "" {
		e.Where = scriptWhere(L)
	}
	// Level 0: the value is not a string, and no position may be prefixed.
	L.Error(ErrorValue(L, e), 0)
}

// RaiseErr raises any Go error in Lua: a *lua.ApiError (an error that came
// out of Lua, for example from a callback the Loop dispatched) is raised
// again with its original value, anything else as an error object made by
// NewError for op. It does not return.
func (rt *Runtime) RaiseErr(L *lua.LState, op string, err error) {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		L.Error(ae.Object, 0)
		return
	}
	Raise(L, rt.NewError(op, "", err))
}

// FromValue returns the error object a Lua value carries, if it is one.
func FromValue(v lua.LValue) (*Error, bool) {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil, false
	}
	e, ok := ud.Value.(*Error)
	return e, ok
}

// IsRetryable reports whether a Lua error value asks to be retried: an error
// object with retryable = true, or a table a script raised with a field
// retryable = true (so scripts can mark their own errors).
func IsRetryable(v lua.LValue) bool {
	if e, ok := FromValue(v); ok {
		return e.Retryable
	}
	if t, ok := v.(*lua.LTable); ok {
		return t.RawGetString("retryable") == lua.LTrue
	}
	return false
}

// ErrorsTable returns a new table of the error codes under upper-case names,
// the etcd.errors module: ErrorsTable(L).COMPACTED == "compacted".
func ErrorsTable(L *lua.LState) *lua.LTable {
	codes := Codes()
	t := L.CreateTable(0, len(codes))
	for _, c := range codes {
		t.RawSetString(codeConstName(c), lua.LString(c))
	}
	return t
}

func errorMetatable(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if mt, ok := reg.RawGetString(errorMetatableKey).(*lua.LTable); ok {
		return mt
	}
	mt := L.CreateTable(0, 5)
	mt.RawSetString("__index", L.NewFunction(errorIndex))
	mt.RawSetString("__tostring", L.NewFunction(errorToString))
	mt.RawSetString("__eq", L.NewFunction(errorEq))
	mt.RawSetString("__concat", L.NewFunction(errorConcat))
	// Scripts may inspect the object but not swap its metatable.
	mt.RawSetString("__metatable", lua.LString("error"))
	reg.RawSetString(errorMetatableKey, mt)
	return mt
}

func errorIndex(L *lua.LState) int {
	e, _ := FromValue(L.Get(1))
	key, _ := L.Get(2).(lua.LString)
	if e == nil {
		L.Push(lua.LNil)
		return 1
	}
	switch key {
	case "code":
		L.Push(lua.LString(e.Code))
	case "message":
		L.Push(lua.LString(e.Message))
	case "op":
		L.Push(lua.LString(e.Op))
	case "key":
		if e.Key == "" {
			// "where there is one": no key reads as nil, not "".
			L.Push(lua.LNil)
		} else {
			L.Push(lua.LString(e.Key))
		}
	case "retryable":
		L.Push(lua.LBool(e.Retryable))
	default:
		L.Push(lua.LNil)
	}
	return 1
}

func errorToString(L *lua.LState) int {
	if e, ok := FromValue(L.Get(1)); ok {
		L.Push(lua.LString(e.Error()))
	} else {
		L.Push(lua.LString(L.Get(1).String()))
	}
	return 1
}

func errorEq(L *lua.LState) int {
	a, ok1 := FromValue(L.Get(1))
	b, ok2 := FromValue(L.Get(2))
	L.Push(lua.LBool(ok1 && ok2 && a.Code == b.Code && a.Message == b.Message && a.Op == b.Op && a.Key == b.Key))
	return 1
}

// errorConcat lets scripts write "failed: " .. err, as they would with a
// string error.
func errorConcat(L *lua.LState) int {
	L.Push(lua.LString(concatPart(L, L.Get(1)) + concatPart(L, L.Get(2))))
	return 1
}

func concatPart(L *lua.LState, v lua.LValue) string {
	if e, ok := FromValue(v); ok {
		return e.Error()
	}
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return v.String()
	}
	L.RaiseError("attempt to concatenate a %s value", v.Type().String())
	return ""
}

// scriptWhere returns "file:line:" of the innermost Lua function on the
// stack, skipping Go functions, or "" when there is none.
func scriptWhere(L *lua.LState) string {
	for level := 1; level < 8; level++ {
		w := L.Where(level)
		if w == "" {
			return ""
		}
		if !strings.HasPrefix(w, "[G]") {
			return w
		}
	}
	return ""
}
