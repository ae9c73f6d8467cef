package luart_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// TestPcallKeepsUpvalues pins the gopher-lua bug luart.PCall works around:
// if gopher-lua ever fixes it, the first check fails and the workaround can
// go.
func TestPcallKeepsUpvalues(t *testing.T) {
	L := newState(t)
	const script = `
		local n = 0
		local function inc() n = n + 1 end
		inc()
		pcall(error, "x")
		inc()
		return n`
	if err := L.DoString(script); err != nil {
		t.Fatal(err)
	}
	if got := L.Get(-1); got != lua.LNumber(1) {
		t.Logf("gopher-lua's own pcall now keeps upvalues (n = %v); luart.PCall may be unnecessary", got)
	}
	L.Pop(1)

	L.SetGlobal("pcall", L.NewFunction(luart.Pcall))
	if err := L.DoString(script); err != nil {
		t.Fatal(err)
	}
	if got := L.Get(-1); got != lua.LNumber(2) {
		t.Fatalf("with luart.Pcall, n = %v, want 2", got)
	}
	run(t, L, `
		local ok, a, b = pcall(function(x, y) return x + y, "r" end, 1, 2)
		assert(ok == true and a == 3 and b == "r")
		local t = {}
		local ok, e = pcall(error, t)
		assert(ok == false and rawequal(e, t))
		local ok, e = pcall(error, "msg", 0)
		assert(ok == false and e == "msg")
		local ok, e = pcall(nil)
		assert(ok == false)
		local ok, e = pcall(pcall)
		assert(ok == false)
	`)
}
