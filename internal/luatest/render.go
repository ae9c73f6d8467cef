package luatest

import (
	"github.com/etcdscript/etcdscript/luart"
	lua "github.com/yuin/gopher-lua"
)

// Render formats a Lua value for an assertion message: strings quoted,
// tables as constructors with sorted keys, cut at a modest depth and width
// so that a failure stays readable.
func Render(L *lua.LState, v lua.LValue) string {
	return luart.Render(v, luart.RenderOptions{Depth: 4, Items: 30, Other: func(v lua.LValue) string {
		if _, ok := v.(*lua.LUserData); ok {
			// Error objects and json.null have a __tostring worth showing.
			return lua.LVAsString(L.ToStringMeta(v))
		}
		return v.String()
	}})
}
