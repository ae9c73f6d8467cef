package luatest

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/stdlib"
)

// Install sets the global assert to the assert module (stdlib.Assert) and
// registers it for require("assert"). The module table stays callable as
// Lua's own assert.
func Install(L *lua.LState) { stdlib.InstallAssert(L) }

// Module returns a new assert module table.
func Module(L *lua.LState) *lua.LTable { return stdlib.AssertTable(L) }
