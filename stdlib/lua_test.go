package stdlib_test

import (
	"context"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/internal/luatest"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/stdlib"
)

// TestLua runs testdata/*.lua, one subtest per file, with every module
// preloaded and a global helpers table for what Lua cannot do alone.
func TestLua(t *testing.T) {
	luatest.RunDir(t, "testdata", func(t *testing.T, L *lua.LState) {
		rt, stderr := newRuntime(t)
		if err := stdlib.Preload(L, rt); err != nil {
			t.Fatal(err)
		}
		h := L.NewTable()
		h.RawSetString("tmpdir", lua.LString(t.TempDir()))
		L.SetFuncs(h, map[string]lua.LGFunction{
			// raise(code, retryable [, message]) raises an error object.
			"raise": func(L *lua.LState) int {
				luart.Raise(L, &luart.Error{Code: L.CheckString(1), Retryable: L.ToBool(2), Op: "test.raise", Message: L.OptString(3, "raised")})
				return 0
			},
			// post(fn, seconds) calls fn on the loop after seconds, from
			// another goroutine, as a watch would.
			"post": func(L *lua.LState) int {
				fn := L.CheckFunction(1)
				d := time.Duration(float64(L.CheckNumber(2)) * float64(time.Second))
				ctx := t.Context()
				go func() {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
					rt.Loop.Post(ctx, func(L *lua.LState) error {
						return L.CallByParam(lua.P{Fn: fn, Protect: true})
					})
				}()
				return 0
			},
			"stderr": func(L *lua.LState) int {
				L.Push(lua.LString(stderr.String()))
				return 1
			},
			"clear_stderr": func(L *lua.LState) int {
				stderr.Reset()
				return 0
			},
			// log_module(level) loads the log module of a run at level.
			"log_module": func(L *lua.LState) int {
				other := *rt
				other.LogLevel = L.CheckString(1)
				L.Push(L.NewFunction(stdlib.Log(&other)))
				L.Call(0, 1)
				return 1
			},
			"is_array": func(L *lua.LState) int {
				L.Push(lua.LBool(luart.IsArray(L.CheckTable(1))))
				return 1
			},
		})
		L.SetGlobal("helpers", h)
	})
}

func TestFSOffUnderSandbox(t *testing.T) {
	rt, _ := newRuntime(t)
	rt.Sandbox = true
	L := newState(t, rt)
	got := eval(t, L, `return require("fs")`)
	want := `!permission_denied: require: module "fs" is off in a sandboxed run (--sandbox): scripts there reach nothing but etcd`
	if got != want {
		t.Fatalf("require(\"fs\") under sandbox\n got: %s\nwant: %s", got, want)
	}
}

func TestEnvUnderSandbox(t *testing.T) {
	t.Setenv("ETCDSCRIPT_SANDBOX_TEST", "leak")
	rt := &luart.Runtime{Sandbox: true}
	L := newState(t, rt)
	if got := eval(t, L, `return tostring(require("env").get("ETCDSCRIPT_SANDBOX_TEST"))`); got != "nil" {
		t.Fatalf("sandboxed env.get saw the process environment: %s", got)
	}
	rt2 := &luart.Runtime{}
	L2 := newState(t, rt2)
	if got := eval(t, L2, `return require("env").get("ETCDSCRIPT_SANDBOX_TEST")`); got != "leak" {
		t.Fatalf("env.get without sandbox = %s", got)
	}
}

func TestPreload(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := stdlib.Preload(L, &luart.Runtime{}, "json", "nope"); err == nil {
		t.Fatal("Preload accepted an unknown module")
	}
	if err := stdlib.Preload(L, &luart.Runtime{}, "json", "strings"); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`assert(require("json").encode({1}) == "[1]"); assert(require("strings").trim(" x ") == "x")`); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`require("yaml")`); err == nil {
		t.Fatal("a module not asked for was preloaded")
	}
	names := map[string]bool{}
	for _, m := range stdlib.All() {
		names[m.Name] = true
	}
	for _, n := range []string{"json", "yaml", "base64", "time", "log", "fs", "env", "strings", "retry", "progress"} {
		if !names[n] {
			t.Errorf("All() lacks %s", n)
		}
	}
}

func TestSleepEndsWithRun(t *testing.T) {
	rt, _ := newRuntime(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rt.Ctx = ctx
	L := newState(t, rt)
	start := time.Now()
	got := eval(t, L, `return require("time").sleep(10)`)
	if got != "!script_timeout: time.sleep: script timeout" {
		t.Fatalf("sleep past the run's deadline = %s", got)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("sleep did not end with the run")
	}
	// Without a loop, too.
	rt.Loop = nil
	L2 := newState(t, rt)
	if got := eval(t, L2, `return require("time").sleep(10)`); got != "!script_timeout: time.sleep: script timeout" {
		t.Fatalf("loopless sleep past the deadline = %s", got)
	}
}
