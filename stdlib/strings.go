package stdlib

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Strings is the strings module, plain-text helpers that Lua's pattern
// based string library makes awkward (no character is magic here):
//
//	strings.split(s, sep [, n]) -> array   Go's strings.SplitN: n < 0 (default) all,
//	                                       n > 0 at most n parts, n == 0 none;
//	                                       sep "" splits into UTF-8 characters
//	strings.trim(s [, cutset]) -> string   whitespace, or the bytes of cutset
//	strings.has_prefix(s, prefix) -> bool
//	strings.has_suffix(s, suffix) -> bool
//	strings.join(t, sep) -> string         t an array of strings or numbers; sep defaults to ""
//
// split and join, whose results can be far larger than their arguments,
// ask the run's memory budget first (memory_limit when over it).
func Strings(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		return moduleTable(L, map[string]lua.LGFunction{
			"split":      func(L *lua.LState) int { return stringsSplit(L, rt) },
			"trim":       stringsTrim,
			"has_prefix": stringsHasPrefix,
			"has_suffix": stringsHasSuffix,
			"join":       func(L *lua.LState) int { return stringsJoin(L, rt) },
		})
	})
}

// maxJoin bounds the separators of strings.join in a run with no memory
// budget: beyond it no process could hold the result.
const maxJoin = 1 << 40

// partSize is what one part of strings.split costs beyond its bytes: a
// string header and a table slot.
const partSize = 32

func stringsSplit(L *lua.LState, rt *luart.Runtime) int {
	a := luart.Args{L: L, Fn: "strings.split"}
	s := a.String(1, "s")
	sep := a.String(2, "sep")
	n := a.OptInt(3, "n", -1)
	// The parts can take many times the string ("" splits every byte):
	// the budget is asked for the most they can take.
	most := int64(len(s)) + 1
	if sep != "" {
		most = int64(len(s)/len(sep)) + 1
	}
	if n > 0 {
		most = min(most, n)
	}
	rt.Reserve(L, "strings.split", most*partSize, "up to "+strconv.FormatInt(most, 10)+" parts")
	parts := strings.SplitN(s, sep, int(n))
	t := luart.NewArray(L, len(parts))
	for i, p := range parts {
		t.RawSetInt(i+1, lua.LString(p))
	}
	L.Push(t)
	return 1
}

func stringsTrim(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "strings.trim"}
	s := a.String(1, "s")
	if L.Get(2) == lua.LNil {
		L.Push(lua.LString(strings.TrimSpace(s)))
		return 1
	}
	L.Push(lua.LString(strings.Trim(s, a.String(2, "cutset"))))
	return 1
}

func stringsHasPrefix(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "strings.has_prefix"}
	L.Push(lua.LBool(strings.HasPrefix(a.String(1, "s"), a.String(2, "prefix"))))
	return 1
}

func stringsHasSuffix(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "strings.has_suffix"}
	L.Push(lua.LBool(strings.HasSuffix(a.String(1, "s"), a.String(2, "suffix"))))
	return 1
}

func stringsJoin(L *lua.LState, rt *luart.Runtime) int {
	a := luart.Args{L: L, Fn: "strings.join"}
	t := a.Table(1, "t")
	sep := a.OptString(2, "sep", "")
	n := t.Len()
	// The separators are what can make the result far larger than the
	// table: a million empty strings joined by a megabyte.
	if seps := int64(max(n-1, 0)) * int64(len(sep)); seps > 0 {
		rt.Reserve(L, "strings.join", seps, "a string of "+luart.FormatSize(seps)+" of separators")
		if seps > maxJoin {
			a.Fail(2, "sep", "the result would hold %s of separators", luart.FormatSize(seps))
		}
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i%luart.CheckEvery == 0 {
			rt.Check(L, "strings.join")
		}
		if i > 1 {
			b.WriteString(sep)
		}
		switch v := t.RawGetInt(i).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(v.String())
		default:
			a.Fail(1, "t", "element %d is a %s, not a string", i, v.Type().String())
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}
