package stdlib_test

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// TestCodecsStopAtTheDeadline: json and yaml decode and encode give up on
// a large value once the run's context has ended, with the run's timeout
// error, instead of finishing the whole value first (the VM cannot stop
// one Go call).
func TestCodecsStopAtTheDeadline(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("[")
	for i := range 20000 {
		if i > 0 {
			doc.WriteString(",")
		}
		doc.WriteString(`{"k":"v"}`)
	}
	doc.WriteString("]")
	big := doc.String()

	for _, name := range []string{"json.decode", "json.encode", "yaml.decode", "yaml.encode"} {
		t.Run(name, func(t *testing.T) {
			rt, _ := newRuntime(t)
			L := newState(t, rt)
			if err := L.DoString(`json, yaml = require("json"), require("yaml")`); err != nil {
				t.Fatal(err)
			}
			L.SetGlobal("big", lua.LString(big))
			value := L.CreateTable(20000, 0)
			for i := 1; i <= 20000; i++ {
				item := L.CreateTable(0, 1)
				item.RawSetString("k", lua.LString("v"))
				value.RawSetInt(i, item)
			}
			L.SetGlobal("value", value)
			// The deadline passes as the call starts: the VM has run its
			// last instruction, only the built-in can notice.
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			rt.Ctx = ctx
			L.SetContext(ctx)
			time.Sleep(5 * time.Millisecond)
			module, fn, _ := strings.Cut(name, ".")
			builtin := L.GetField(L.GetGlobal(module), fn)
			arg := L.GetGlobal("value")
			if strings.HasSuffix(name, "decode") {
				arg = L.GetGlobal("big")
			}
			err := L.CallByParam(lua.P{Fn: builtin, NRet: 1, Protect: true}, arg)
			le, ok := luart.FromError(err)
			if !ok || le.Code != luart.CodeScriptTimeout || le.Op != name {
				t.Fatalf("error %v, want %s's script_timeout", err, name)
			}
		})
	}
}

// TestCodecsDeepValues: a value nested a million deep is an error that
// says so, in few words, not a Go stack overflow.
func TestCodecsDeepValues(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`json, yaml = require("json"), require("yaml")
		deep = string.rep("[", 1000000)
		nested = {}
		local cur = nested
		for i = 1, 5000 do cur[1] = {} cur = cur[1] end`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ code, want string }{
		{`return json.decode(deep)`, "nested deeper than 1000 levels"},
		{`return yaml.decode(deep)`, "max depth"},
		{`return json.encode(nested)`, "nested deeper than 1000 levels"},
		{`return yaml.encode(nested)`, "nested deeper than 1000 levels"},
	} {
		got := eval(t, L, c.code)
		if !strings.HasPrefix(got, "!invalid_argument: ") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %.300s, want invalid_argument: ...%s", c.code, got, c.want)
		}
		if len(got) > 300 {
			t.Errorf("%s: a message of %d bytes: %.300s...", c.code, len(got), got)
		}
	}
}
