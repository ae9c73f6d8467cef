package stdlib

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// progressBarType names the metatable of bar objects in the registry.
const progressBarType = "etcdscript.progress.bar"

// Progress is the progress module:
//
//	local bar = progress.bar(total [, label])   total 0: unknown
//	bar:add([n])    counts n (default 1) more done
//	bar:done()      draws the final state and ends the line
//	bar:count()     the count so far
//
// The bar draws on the run's stderr only when that is a terminal, and is
// silent otherwise, so piped or logged output stays clean.
func Progress(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		mt := L.NewTypeMetatable(progressBarType)
		methods := moduleTable(L, map[string]lua.LGFunction{
			"add":   progressAdd,
			"done":  progressDone,
			"count": progressCount,
		})
		mt.RawSetString("__index", methods)
		return moduleTable(L, map[string]lua.LGFunction{
			"bar": func(L *lua.LState) int {
				a := luart.Args{L: L, Fn: "progress.bar"}
				total := a.OptInt(1, "total", 0)
				if total < 0 {
					a.Fail(1, "total", "total must not be negative, got %d", total)
				}
				label := a.OptString(2, "label", "")
				ud := L.NewUserData()
				ud.Value = luart.NewProgress(rt.StderrWriter(), total, label)
				ud.Metatable = mt
				L.Push(ud)
				return 1
			},
		})
	})
}

// bar checks that a method was called on a bar, as bar:add() and not
// bar.add().
func bar(L *lua.LState, fn string) (*luart.Progress, luart.Args) {
	a := luart.Args{L: L, Fn: fn, Offset: 1}
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if p, ok := ud.Value.(*luart.Progress); ok {
			return p, a
		}
	}
	luart.ArgError(L, fn, "self", "progress bar expected (call it as bar:%s())", fn[len("bar:"):])
	return nil, a
}

func progressAdd(L *lua.LState) int {
	p, a := bar(L, "bar:add")
	n := a.OptInt(2, "n", 1)
	p.Add(n)
	return 0
}

func progressDone(L *lua.LState) int {
	p, _ := bar(L, "bar:done")
	p.Done()
	return 0
}

func progressCount(L *lua.LState) int {
	p, _ := bar(L, "bar:count")
	L.Push(lua.LNumber(p.Count()))
	return 1
}
