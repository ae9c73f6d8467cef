package engine

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// BenchmarkPatterns compares the engine's pattern functions with
// gopher-lua's on everyday patterns: "ours" must not be slower.
//
//	go test ./engine -run '^$' -bench Patterns -benchtime 200ms
func BenchmarkPatterns(b *testing.B) {
	sentence := "The quick brown fox jumps over the lazy dog; key=value, n = 12345 on 2026-12-07"
	cases := []struct {
		name, fn string
		args     []lua.LValue
	}{
		{"find digits", "find", []lua.LValue{lua.LString(sentence), lua.LString("%d+")}},
		{"find word", "find", []lua.LValue{lua.LString(sentence), lua.LString("lazy")}},
		{"find anchored", "find", []lua.LValue{lua.LString(sentence), lua.LString("^The")}},
		{"match key value", "match", []lua.LValue{lua.LString(sentence), lua.LString("(%w+)=(%w+)")}},
		{"match date", "match", []lua.LValue{lua.LString(sentence), lua.LString("(%d+)-(%d+)-(%d+)")}},
		{"match trim", "match", []lua.LValue{lua.LString("   some text   "), lua.LString("^%s*(.-)%s*$")}},
		{"gsub spaces", "gsub", []lua.LValue{lua.LString(sentence), lua.LString("%s+"), lua.LString(" ")}},
		{"gsub words", "gsub", []lua.LValue{lua.LString(sentence), lua.LString("%a+"), lua.LString("<%0>")}},
	}
	for _, impl := range []string{"gopher-lua", "ours"} {
		L := lua.NewState()
		defer L.Close()
		if impl == "ours" {
			r := &run{vmCtx: context.Background(), rt: &luart.Runtime{}}
			r.fixLongBuiltins(L)
		}
		str := L.GetGlobal("string").(*lua.LTable)
		for _, c := range cases {
			fn := str.RawGetString(c.fn)
			b.Run(c.name+"/"+impl, func(b *testing.B) {
				for b.Loop() {
					if err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet}, c.args...); err != nil {
						b.Fatal(err)
					}
					L.SetTop(0)
				}
			})
		}
	}
}
