package luart_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

var putOptions = luart.NewOptionSet("lease", "prev_kv", "ignore_value", "ignore_lease")

// putShaped checks arguments the way etcd.put will: key, value, options.
func putShaped(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "etcd.put"}
	key := a.Key(1, "key")
	value := a.String(2, "value")
	o := a.Options(3, "opts", putOptions)
	lease := o.String("lease", "")
	prev := o.Bool("prev_kv", false)
	if len(key)+len(value)+len(lease) < 0 || prev {
		L.Push(lua.LTrue)
		return 1
	}
	return 0
}

// BenchmarkArgsPut measures the Go side alone: the checks on a stack that
// already holds the arguments.
func BenchmarkArgsPut(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	opts := L.NewTable()
	opts.RawSetString("lease", lua.LString("694d7f1e2a3b4c5d"))
	L.Push(lua.LString("config/app/key"))
	L.Push(lua.LString("some value"))
	L.Push(opts)
	b.ReportAllocs()
	for b.Loop() {
		putShaped(L)
	}
}

// BenchmarkArgsPutFromLua measures a put-shaped call made from Lua, the
// whole cost a script pays per call before any network work.
func BenchmarkArgsPutFromLua(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("put", L.NewFunction(putShaped))
	fn, err := L.LoadString(`
		local put, opts = put, {lease = "694d7f1e2a3b4c5d"}
		return function(n) for i = 1, n do put("config/app/key", "some value", opts) end end`)
	if err != nil {
		b.Fatal(err)
	}
	L.Push(fn)
	L.Call(0, 1)
	loop := L.Get(-1)
	b.ReportAllocs()
	b.ResetTimer()
	if err := L.CallByParam(lua.P{Fn: loop, Protect: true}, lua.LNumber(b.N)); err != nil {
		b.Fatal(err)
	}
}
