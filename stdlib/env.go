package stdlib

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Env is the env module:
//
//	env.get(name [, default]) -> string, or default (nil) when unset
//
// It sees what the run allows (luart.Runtime.LookupEnv): the host's Getenv
// hook, else the process environment, except under a sandbox, where
// without a hook every variable is unset.
func Env(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		return moduleTable(L, map[string]lua.LGFunction{
			"get": func(L *lua.LState) int {
				a := luart.Args{L: L, Fn: "env.get"}
				name := a.String(1, "name")
				if v, ok := rt.LookupEnv(name); ok {
					L.Push(lua.LString(v))
				} else {
					L.Push(L.Get(2))
				}
				return 1
			},
		})
	})
}
