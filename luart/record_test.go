package luart_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// TestShapeFastPathOn fails when gopher-lua's table layout is not the one
// Shape was written for: Shape still works (it falls back), but slower, and
// record.go should be brought up to date.
func TestShapeFastPathOn(t *testing.T) {
	old := luart.SetTableLayoutOK(true)
	luart.SetTableLayoutOK(old)
	if !old {
		t.Fatal("lua.LTable's layout is not the one luart.Shape knows: the fast path is off")
	}
}

// TestShapeTables compares tables made by a Shape with tables made field by
// field with RawSetString, through everything Lua can do to a table, on the
// fast path and on the fallback.
func TestShapeTables(t *testing.T) {
	for _, fast := range []bool{true, false} {
		name := map[bool]string{true: "fast", false: "fallback"}[fast]
		t.Run(name, func(t *testing.T) {
			old := luart.SetTableLayoutOK(fast)
			defer luart.SetTableLayoutOK(old)
			shape := luart.NewShape("key", "value", "n", "lease")
			L := newState(t)
			L.SetGlobal("shaped", L.NewFunction(func(L *lua.LState) int {
				var lease lua.LValue = lua.LNil
				if L.OptBool(2, true) {
					lease = lua.LString("1a2b")
				}
				L.Push(shape.New(lua.LString(L.CheckString(1)), lua.LString("v"), lua.LNumber(7), lease))
				return 1
			}))
			L.SetGlobal("plain", L.NewFunction(func(L *lua.LState) int {
				tb := L.NewTable()
				tb.RawSetString("key", lua.LString(L.CheckString(1)))
				tb.RawSetString("value", lua.LString("v"))
				tb.RawSetString("n", lua.LNumber(7))
				if L.OptBool(2, true) {
					tb.RawSetString("lease", lua.LString("1a2b"))
				}
				L.Push(tb)
				return 1
			}))
			run(t, L, `
				-- pairs order is Lua's to choose; fresh tables iterate alike,
				-- changed ones are compared as sets.
				local function walk(t, ordered)
					local out = {}
					for k, v in pairs(t) do out[#out + 1] = tostring(k) .. "=" .. tostring(v) end
					if not ordered then table.sort(out) end
					return table.concat(out, ",")
				end
				local function check(what, a, b)
					local ordered = what == "new" or what == "fresh"
					local wa, wb = walk(a, ordered), walk(b, ordered)
					if wa ~= wb then error(what .. ": shaped {" .. wa .. "} plain {" .. wb .. "}") end
				end
				for _, lease in ipairs({true, false}) do
					local a, b = shaped("k", lease), plain("k", lease)
					check("new", a, b)
					assert(a.key == "k" and a.value == "v" and a.n == 7 and rawget(a, "value") == "v")
					assert((a.lease == nil) == not lease, "lease")
					assert(#a == 0 and next(a) == next(b))
					-- a new key, a changed key, a removed key, array items
					a.extra, b.extra = 1, 1
					a.n, b.n = 8, 8
					a.value, b.value = nil, nil
					a[1], b[1] = "x", "x"
					table.insert(a, "y"); table.insert(b, "y")
					check("changed", a, b)
					assert(#a == 2)
					-- another table of the shape is untouched
					local c = shaped("c", lease)
					check("fresh", c, plain("c", lease))
					assert(c.extra == nil and c.value == "v")
					-- the removed key can come back, and an absent one arrive
					a.value, b.value = "again", "again"
					a.lease, b.lease = "late", "late"
					check("restored", a, b)
					assert(a.lease == "late")
					setmetatable(a, {__index = function() return "dflt" end})
					assert(a.missing == "dflt" and a.key == "k")
				end
			`)
		})
	}
}

func TestShapeBadUse(t *testing.T) {
	for name, f := range map[string]func(){
		"duplicate key": func() { luart.NewShape("a", "a") },
		"too few":       func() { luart.NewShape("a", "b").New(lua.LString("x")) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkShape(b *testing.B) {
	shape := luart.NewShape("key", "value", "create_revision", "mod_revision", "version")
	key, value := lua.LString("bench/key"), lua.LString("value")
	b.Run("shape", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			shape.New(key, value, lua.LNumber(1000), lua.LNumber(1001), lua.LNumber(2))
		}
	})
	b.Run("rawset", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t := &lua.LTable{Metatable: lua.LNil}
			t.RawSetString("key", key)
			t.RawSetString("value", value)
			t.RawSetString("create_revision", lua.LNumber(1000))
			t.RawSetString("mod_revision", lua.LNumber(1001))
			t.RawSetString("version", lua.LNumber(2))
		}
	})
}
