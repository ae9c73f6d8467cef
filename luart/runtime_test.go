package luart_test

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

func TestCallContext(t *testing.T) {
	rt := &luart.Runtime{}
	ctx, cancel := rt.CallContext()
	if _, ok := ctx.Deadline(); ok {
		t.Error("deadline without CallTimeout")
	}
	cancel()

	parent, pcancel := context.WithCancel(context.Background())
	rt = &luart.Runtime{Ctx: parent, CallTimeout: time.Hour}
	ctx, cancel = rt.CallContext()
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("deadline = %v, %v", d, ok)
	}
	pcancel()
	<-ctx.Done() // the run's end reaches the call
}

func TestLookupEnv(t *testing.T) {
	t.Setenv("LUART_TEST_VAR", "x")
	tests := []struct {
		name string
		rt   *luart.Runtime
		want string
		ok   bool
	}{
		{"process", &luart.Runtime{}, "x", true},
		{"sandbox hides the process", &luart.Runtime{Sandbox: true}, "", false},
		{"hook", &luart.Runtime{Getenv: func(string) (string, bool) { return "h", true }}, "h", true},
		{"hook under sandbox", &luart.Runtime{Sandbox: true, Getenv: func(string) (string, bool) { return "h", true }}, "h", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := tt.rt.LookupEnv("LUART_TEST_VAR")
			if v != tt.want || ok != tt.ok {
				t.Errorf("LookupEnv = %q, %v", v, ok)
			}
		})
	}
}

func TestWritersAndNow(t *testing.T) {
	rt := &luart.Runtime{}
	if rt.StdoutWriter() != io.Discard || rt.StderrWriter() != io.Discard {
		t.Error("nil writers do not discard")
	}
	rt = &luart.Runtime{Stdout: os.Stdout, Now: func() time.Time { return time.Unix(5, 0) }}
	if rt.StdoutWriter() != os.Stdout || rt.TimeNow().Unix() != 5 {
		t.Error("fields ignored")
	}
}

func TestArrayMarkAndNull(t *testing.T) {
	L := newState(t)
	a := luart.NewArray(L, 2)
	if !luart.IsArray(a) {
		t.Fatal("NewArray not marked")
	}
	plain := L.NewTable()
	if luart.IsArray(plain) {
		t.Fatal("plain table marked")
	}
	if !luart.MarkArray(L, plain) || !luart.IsArray(plain) {
		t.Fatal("MarkArray")
	}
	own := L.NewTable()
	own.Metatable = L.NewTable()
	if luart.MarkArray(L, own) || luart.IsArray(own) {
		t.Fatal("MarkArray replaced a script's metatable")
	}
	// A script's own metatable can carry the mark.
	mt := L.NewTable()
	mt.RawSetString(luart.ArrayTypeField, lua.LString("array"))
	own.Metatable = mt
	if !luart.IsArray(own) {
		t.Fatal("__jsontype mark ignored")
	}

	null := luart.Null(L)
	if null != luart.Null(L) || !luart.IsNull(null) || luart.IsNull(lua.LNil) {
		t.Fatal("Null is not one sentinel")
	}
	L.SetGlobal("null", null)
	run(t, L, `assert(tostring(null) == "null"); assert(null ~= nil)`)
}
