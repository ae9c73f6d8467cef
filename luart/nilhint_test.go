package luart_test

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// TestNilHint runs chunks in which a Go function returns nil (recording
// it with NoteNil) and checks which failures get the hint: only those that
// certainly index that nil.
func TestNilHint(t *testing.T) {
	cases := []struct {
		name, code string
		hint       bool
	}{
		{"indexed at once", `local v = getnil("a").value`, true},
		{"a method on it", `getnil("a"):upper()`, true},
		{"assigned to", `getnil("a").value = 1`, true},
		{"a local indexed on the next line", "local kv = getnil(\"a\")\nprint(\"x: \" .. kv.value)", true},
		{"moved to another local", "local kv\nkv = getnil(\"a\")\nlocal v = kv.value", true},
		{"two results", "local kv, h = getnil(\"a\")\nreturn kv.value", true},
		{"another nil", "local kv = getnil(\"a\")\nlocal t\nreturn t.value", false},
		{"the nil replaced", "local kv = getnil(\"a\")\nkv = nil\nreturn kv.value", false},
		{"after a branch", "local kv = getnil(\"a\") or other\nreturn kv.value", false},
		{"after another call", "local kv = getnil(\"a\")\nprint(1)\nreturn kv.value", false},
		{"a caught failure, then another on the same line", `local ok = pcall(function() return getnil("a").value end) local t; return t.value`, false},
		{"globals with a metatable", "setmetatable(_G, {__index = function() end})\nlocal kv = getnil(\"a\")\nprint(kv.value)", false},
		{"globals with a metatable, indexed at once", "setmetatable(_G, {__index = function() end})\nreturn getnil(\"a\").value", true},
		{"through pcall", `return (select(2, pcall(getnil, "a"))).x`, false},
		{"in a function", "local function f()\n  local kv = getnil(\"a\")\n  return kv.value\nend\nf()", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			L := newState(t)
			L.SetGlobal("pcall", L.NewFunction(luart.Pcall))
			L.SetGlobal("getnil", L.NewFunction(func(L *lua.LState) int {
				luart.NoteNil(L, `etcd.get("`+L.CheckString(1)+`")`, "the key does not exist", "if kv then ... end")
				L.Push(lua.LNil)
				L.Push(lua.LNil)
				return 2
			}))
			err := L.DoString(c.code)
			var ae *lua.ApiError
			if !errors.As(err, &ae) {
				t.Fatalf("no Lua error: %v", err)
			}
			msg := ae.Object.String()
			if !strings.Contains(msg, "attempt to index a non-table object(nil)") {
				t.Fatalf("error %q", msg)
			}
			hint := luart.NilHint(L, msg)
			if got := hint != ""; got != c.hint {
				t.Fatalf("%q: hint %q, want one: %v", msg, hint, c.hint)
			}
			if c.hint && !strings.Contains(hint, `etcd.get("a") returned on line`) {
				t.Fatalf("hint %q", hint)
			}
			if luart.NilHint(L, msg) != "" {
				t.Fatal("the hint was given twice")
			}
		})
	}
}
