package luart

import (
	lua "github.com/yuin/gopher-lua"
)

// passErrorKey names the cached error handler in the registry.
const passErrorKey = "etcdscript.passerror"

// PCall is L.PCall(nargs, nret, nil) without gopher-lua's upvalue bug
// (yuin/gopher-lua#448): when the called function raises, gopher-lua's
// PCall without an error handler closes the open upvalues of every frame on
// the stack, not only of the frames the error unwinds, so a closure and the
// still-running function that owns its variable stop sharing it:
//
//	local n = 0
//	local function inc() n = n + 1 end
//	pcall(error, "x")
//	inc()  -- n is still 0 here
//
// With an error handler gopher-lua leaves upvalues alone, so PCall passes
// one that hands the error value through unchanged. The error comes back as
// a *lua.ApiError whose Object is the raised value, as with L.PCall. (The
// price: upvalues of the unwound frames stay open, which only matters to a
// closure made inside the failing call that outlives it.)
func PCall(L *lua.LState, nargs, nret int) error {
	return L.PCall(nargs, nret, passError(L))
}

func passError(L *lua.LState) *lua.LFunction {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if fn, ok := reg.RawGetString(passErrorKey).(*lua.LFunction); ok {
		return fn
	}
	// The handler returns its argument: the error value, unchanged.
	fn := L.NewFunction(func(L *lua.LState) int { return 1 })
	reg.RawSetString(passErrorKey, fn)
	return fn
}

// Pcall is Lua's pcall built on PCall, for the engine to install as the
// global pcall in place of gopher-lua's, which has the upvalue bug PCall
// describes. It behaves as Lua 5.1's pcall: pcall(f, ...) returns true and
// f's results, or false and the error value.
func Pcall(L *lua.LState) int {
	L.CheckAny(1)
	nargs := L.GetTop() - 1
	if err := PCall(L, nargs, lua.MultRet); err != nil {
		ForgetNil(L)
		L.Push(lua.LFalse)
		if ae, ok := err.(*lua.ApiError); ok {
			L.Push(ae.Object)
		} else {
			L.Push(lua.LString(err.Error()))
		}
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}
