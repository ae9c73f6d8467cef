package stdlib

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"

	"github.com/etcdscript/etcdscript/luart"
)

// Assert is the loader of the assert module, the assertions of test files
// (`etcdscript test`, docs/lua.md):
//
//	assert.eq(a, b [, msg])          deep equality for tables, == otherwise
//	assert.ne(a, b [, msg])
//	assert.truthy(v [, msg]), assert.falsy(v [, msg])
//	assert.near(a, b, eps [, msg])   |a - b| <= eps
//	assert.match(s, pattern [, msg]) a Lua pattern
//	assert.error(fn [, code_or_pattern [, msg]]) -> err
//	assert.fail(msg)
//	assert(v [, msg], ...)           Lua's own assert: the table is callable
//
// A failing assertion raises an error that starts with the file:line of
// the assert call. require("assert") works in every run; a test run also
// makes it the global assert (InstallAssert).
func Assert(_ *luart.Runtime) lua.LGFunction { return loader(AssertTable) }

// InstallAssert sets the global assert to a new assert module table and
// registers it for require("assert").
func InstallAssert(L *lua.LState) {
	t := AssertTable(L)
	L.SetGlobal("assert", t)
	L.PreloadModule("assert", func(L *lua.LState) int {
		L.Push(t)
		return 1
	})
}

// AssertTable returns a new assert module table.
func AssertTable(L *lua.LState) *lua.LTable {
	m := L.CreateTable(0, 10)
	for name, fn := range map[string]lua.LGFunction{
		"eq":     assertEq,
		"ne":     assertNe,
		"truthy": assertTruthy,
		"falsy":  assertFalsy,
		"near":   assertNear,
		"match":  assertMatch,
		"error":  assertError,
		"fail":   assertFail,
	} {
		m.RawSetString(name, L.NewFunction(fn))
	}
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__call", L.NewFunction(assertCall))
	L.SetMetatable(m, mt)
	return m
}

// fail raises the assertion error. RaiseError prefixes the position of the
// innermost Lua function, which is the line of the assert call.
func fail(L *lua.LState, what string, msgArg int, format string, args ...any) {
	text := what + " failed: " + fmt.Sprintf(format, args...)
	if m := L.Get(msgArg); m != lua.LNil {
		text += " (" + lua.LVAsString(L.ToStringMeta(m)) + ")"
	}
	L.RaiseError("%s", text)
}

// assertCall keeps `assert(v, msg)` working as Lua's base assert.
func assertCall(L *lua.LState) int {
	v := L.Get(2)
	if !lua.LVAsBool(v) {
		if msg := L.Get(3); msg != lua.LNil {
			L.Error(msg, 1)
		}
		L.RaiseError("assertion failed!")
	}
	return L.GetTop() - 1
}

func assertEq(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	if !deepEqual(L, a, b, nil) {
		fail(L, "assert.eq", 3, "expected %s, got %s", renderValue(L, b), renderValue(L, a))
	}
	return 0
}

func assertNe(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	if deepEqual(L, a, b, nil) {
		fail(L, "assert.ne", 3, "both are %s", renderValue(L, a))
	}
	return 0
}

func assertTruthy(L *lua.LState) int {
	if v := L.Get(1); !lua.LVAsBool(v) {
		fail(L, "assert.truthy", 2, "got %s", renderValue(L, v))
	}
	return 0
}

func assertFalsy(L *lua.LState) int {
	if v := L.Get(1); lua.LVAsBool(v) {
		fail(L, "assert.falsy", 2, "got %s", renderValue(L, v))
	}
	return 0
}

func assertNear(L *lua.LState) int {
	a, b, eps := float64(L.CheckNumber(1)), float64(L.CheckNumber(2)), float64(L.CheckNumber(3))
	if math.Abs(a-b) > eps || math.IsNaN(a-b) {
		fail(L, "assert.near", 4, "%v is not within %v of %v", a, eps, b)
	}
	return 0
}

func assertMatch(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	ok, err := patternMatch(pattern, s)
	if err != nil {
		L.RaiseError("assert.match: bad pattern %q: %v", pattern, err)
	}
	if !ok {
		fail(L, "assert.match", 3, "%q does not match %q", s, pattern)
	}
	return 0
}

func assertFail(L *lua.LState) int {
	fail(L, "assert.fail", 2, "%s", L.OptString(1, "failed"))
	return 0
}

// assertError runs fn under pcall and checks that it failed as expected.
func assertError(L *lua.LState) int {
	fn := L.CheckFunction(1)
	want := L.Get(2)
	L.Push(fn)
	err := luart.PCall(L, 0, 0)
	if err == nil {
		fail(L, "assert.error", 3, "expected an error, got none")
	}
	ae, ok := err.(*lua.ApiError)
	if !ok {
		L.RaiseError("assert.error: %v", err)
	}
	got := ae.Object
	if want != lua.LNil {
		w := lua.LVAsString(want)
		if !errorMatches(L, got, w) {
			fail(L, "assert.error", 3, "expected an error matching %q, got %s", w, renderValue(L, got))
		}
	}
	L.Push(got)
	return 1
}

// errorMatches reports whether an error value has code want, or its text
// contains want or matches it as a Lua pattern.
func errorMatches(L *lua.LState, v lua.LValue, want string) bool {
	if e, ok := luart.FromValue(v); ok && e.Code == want {
		return true
	}
	text := lua.LVAsString(L.ToStringMeta(v))
	if strings.Contains(text, want) {
		return true
	}
	ok, err := patternMatch(want, text)
	return err == nil && ok
}

func patternMatch(pattern, s string) (bool, error) {
	mds, err := pm.Find(pattern, []byte(s), 0, 1)
	if err != nil {
		return false, err
	}
	return len(mds) > 0, nil
}

// tablePair is a pair of tables being compared, to stop on cycles.
type tablePair struct{ a, b *lua.LTable }

// deepEqual compares tables by content (keys by identity, values deeply)
// and everything else with Lua's == (metamethods included).
func deepEqual(L *lua.LState, a, b lua.LValue, seen map[tablePair]bool) bool {
	ta, ok1 := a.(*lua.LTable)
	tb, ok2 := b.(*lua.LTable)
	if !ok1 || !ok2 {
		if ok1 != ok2 {
			return false
		}
		return L.Equal(a, b)
	}
	if ta == tb {
		return true
	}
	if seen == nil {
		seen = map[tablePair]bool{}
	}
	p := tablePair{ta, tb}
	if seen[p] {
		return true
	}
	seen[p] = true
	n := 0
	equal := true
	ta.ForEach(func(k, v lua.LValue) {
		n++
		if equal && !deepEqual(L, v, tb.RawGet(k), seen) {
			equal = false
		}
	})
	if !equal {
		return false
	}
	m := 0
	tb.ForEach(func(lua.LValue, lua.LValue) { m++ })
	return n == m
}

// renderValue formats a Lua value for an assertion message: strings
// quoted, tables as constructors with sorted keys, cut at a modest depth
// and width so that a failure stays readable.
func renderValue(L *lua.LState, v lua.LValue) string {
	return luart.Render(v, luart.RenderOptions{Depth: 4, Items: 30, Other: func(v lua.LValue) string {
		if _, ok := v.(*lua.LUserData); ok {
			// Error objects and json.null have a __tostring worth showing.
			return lua.LVAsString(L.ToStringMeta(v))
		}
		return v.String()
	}})
}
