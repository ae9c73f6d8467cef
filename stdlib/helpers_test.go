package stdlib_test

import lua "github.com/yuin/gopher-lua"

func luaString(s string) lua.LValue { return lua.LString(s) }
