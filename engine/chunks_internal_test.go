package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

func TestChunkCache(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.lua")
	if err := os.WriteFile(main, []byte(`return require("mod")`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mod.lua"), []byte(`return 1`), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	runOnce := func() any {
		t.Helper()
		res, err := e.RunFile(context.Background(), main, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Values[0]
	}
	runOnce()
	if h, m := e.chunks.hits.Load(), e.chunks.misses.Load(); h != 0 || m != 2 {
		t.Fatalf("first run: %d hits, %d misses; want 0 and 2", h, m)
	}
	runOnce()
	if h, m := e.chunks.hits.Load(), e.chunks.misses.Load(); h != 2 || m != 2 {
		t.Fatalf("second run: %d hits, %d misses; want 2 and 2", h, m)
	}
	// A changed module is compiled again, never served stale.
	if err := os.WriteFile(filepath.Join(dir, "mod.lua"), []byte(`return 2`), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := runOnce(); v != int64(2) {
		t.Fatalf("after the change the module returned %v, want 2", v)
	}
	if h, m := e.chunks.hits.Load(), e.chunks.misses.Load(); h != 3 || m != 3 {
		t.Fatalf("third run: %d hits, %d misses; want 3 and 3", h, m)
	}
}

func TestChunkCacheBound(t *testing.T) {
	c := newChunkCache()
	for i := range maxCachedChunks + 10 {
		if _, err := c.compile("c", []byte("return "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.protos); n != maxCachedChunks || len(c.order) != maxCachedChunks {
		t.Fatalf("cache holds %d chunks (%d in order), bound is %d", n, len(c.order), maxCachedChunks)
	}
}

// TestFixTForLoops: a NOP after a TFORLOOP becomes a jump of 0 (TFORLOOP
// applies the offset of the instruction after it), in nested functions
// too; other NOPs and jumps are left alone.
func TestFixTForLoops(t *testing.T) {
	op := func(code int, sbx int) uint32 { return uint32(code)<<opShift | uint32(sbx+sbxOffset)&sbxMask }
	tfor, nop, jmp := lua.OP_TFORLOOP, lua.OP_NOP, lua.OP_JMP
	inner := &lua.FunctionProto{Code: []uint32{op(tfor, 0), op(nop, 7)}}
	p := &lua.FunctionProto{
		Code:               []uint32{op(nop, 3), op(tfor, 0), op(nop, 5), op(tfor, 0), op(jmp, -3), op(nop, 2)},
		FunctionPrototypes: []*lua.FunctionProto{inner},
	}
	fixTForLoops(p)
	want := []uint32{op(nop, 3), op(tfor, 0), op(jmp, 0), op(tfor, 0), op(jmp, -3), op(nop, 2)}
	for i := range want {
		if p.Code[i] != want[i] {
			t.Errorf("code[%d] = %#x, want %#x", i, p.Code[i], want[i])
		}
	}
	if inner.Code[1] != op(jmp, 0) {
		t.Errorf("nested function: code[1] = %#x, want a jump of 0", inner.Code[1])
	}
}

// TestGuardPanic: a Go panic inside a library function, caught by pcall,
// is an error object of code internal with a one-line message, not the
// panic's text.
func TestGuardPanic(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	lib := L.NewTable()
	lib.RawSetString("explode", L.NewFunction(func(L *lua.LState) int { panic("host bug\nsecond line") }))
	lib.RawSetString("fail", L.NewFunction(func(L *lua.LState) int { L.RaiseError("plain error"); return 0 }))
	guardFuncs(lib)
	L.SetGlobal("lib", lib)
	L.SetGlobal("pcall", L.NewFunction(luart.Pcall))
	err := L.DoString(`
local ok, err = pcall(lib.explode)
assert(not ok)
assert(err.code == "internal", tostring(err))
assert(tostring(err) == "internal error in a Go function: host bug", tostring(err))
ok, err = pcall(lib.fail)
assert(not ok and type(err) == "string" and err:find("plain error"), tostring(err))`)
	if err != nil {
		t.Fatal(err)
	}
}
