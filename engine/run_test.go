package engine_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/luart"
)

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		code int
		kind engine.Kind
	}{
		{"ok", `local x = 1`, engine.ExitOK, ""},
		{"error", `error("boom")`, engine.ExitError, engine.KindRuntime},
		{"syntax", `local = 1`, engine.ExitSyntax, engine.KindSyntax},
		{"exit 0", `os.exit(0) error("not reached")`, engine.ExitOK, ""},
		{"exit n", `os.exit(7)`, 7, engine.KindExit},
		{"exit true", `os.exit(true)`, 0, ""},
		{"exit false", `os.exit(false)`, 1, engine.KindExit},
		{"exit no arg", `os.exit()`, 0, ""},
		{"exit bad code", `os.exit(300)`, engine.ExitError, engine.KindRuntime},
		{"exit in pcall", `print(pcall(os.exit, 4)) print("after")`, 4, engine.KindExit},
		{"exit in nested pcall", `pcall(function() pcall(function() os.exit(9) end) end) print("after")`, 9, engine.KindExit},
		{"exit in xpcall", `xpcall(function() os.exit(6) end, function(e) return e end) print("after")`, 6, engine.KindExit},
		{"exit in coroutine", `local co = coroutine.create(function() os.exit(8) end) print(coroutine.resume(co)) print("after")`, 8, engine.KindExit},
		{"exit in wrapped coroutine", `local f = coroutine.wrap(function() os.exit(10) end) pcall(f) print("after")`, 10, engine.KindExit},
		{"exit in error handler", `xpcall(function() error("x") end, function(e) os.exit(12) end) print("after")`, 12, engine.KindExit},
		{"exit from tostring", `local t = setmetatable({}, {__tostring = function() os.exit(13) end}) pcall(tostring, t) print("after")`, 13, engine.KindExit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := runString(t, engine.Config{}, tc.src)
			if o.res.ExitCode != tc.code {
				t.Fatalf("exit code %d, want %d (error %v)", o.res.ExitCode, tc.code, o.err)
			}
			if engine.ExitCode(o.err) != tc.code {
				t.Errorf("engine.ExitCode(err) = %d, want %d", engine.ExitCode(o.err), tc.code)
			}
			if strings.Contains(o.stdout, "after") {
				t.Errorf("the script went on after os.exit: stdout %q", o.stdout)
			}
			if tc.kind == "" {
				if o.err != nil {
					t.Fatalf("error %v, want none", o.err)
				}
				return
			}
			se := o.scriptErr(t)
			if se.Kind != tc.kind || se.ExitCode != tc.code {
				t.Errorf("kind %q exit %d, want %q %d (%v)", se.Kind, se.ExitCode, tc.kind, tc.code, se)
			}
		})
	}
}

func TestRunFileUnreadable(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{})
	res, err := e.RunFile(context.Background(), filepath.Join(t.TempDir(), "missing.lua"), nil)
	if res.ExitCode != engine.ExitIO {
		t.Fatalf("exit code %d, want %d", res.ExitCode, engine.ExitIO)
	}
	se, ok := engine.AsScriptError(err)
	if !ok || se.Kind != engine.KindIO {
		t.Fatalf("error %v, want a ScriptError of kind io", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) is false for %v", err)
	}
}

func TestNilContext(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{})
	//lint:ignore SA1012 a nil context is what is tested
	_, err := e.RunString(nil, "x", "", nil) //nolint:staticcheck
	if err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Fatalf("error %v, want one about the nil context", err)
	}
}

func TestClosedEngine(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RunString(context.Background(), "x", "", nil); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("error %v, want ErrClosed", err)
	}
}

func TestConfigCheck(t *testing.T) {
	for name, cfg := range map[string]engine.Config{
		"negative timeout": {Timeout: -1},
		"bad log level":    {LogLevel: "loud"},
		"nil module":       {Modules: map[string]lua.LGFunction{"m": nil}},
		"empty lib path":   {LibPaths: []string{""}},
	} {
		if _, err := engine.New(cfg); !errors.Is(err, engine.ErrInvalidConfig) {
			t.Errorf("%s: error %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestScriptErrorOfStringError(t *testing.T) {
	o := runString(t, engine.Config{}, "local function f()\n  error('boom')\nend\nf()\n")
	se := o.scriptErr(t)
	if se.Kind != engine.KindRuntime || se.ExitCode != engine.ExitError {
		t.Errorf("kind %q exit %d", se.Kind, se.ExitCode)
	}
	if se.File != "test.lua" || se.Line != 2 || se.Message != "boom" {
		t.Errorf("file %q line %d message %q, want test.lua 2 boom", se.File, se.Line, se.Message)
	}
	if got := se.Error(); got != "test.lua:2: boom" {
		t.Errorf("Error() = %q", got)
	}
	if !strings.Contains(se.Traceback, "stack traceback:") || !strings.Contains(se.Traceback, "test.lua:4") {
		t.Errorf("traceback does not show the call site:\n%s", se.Traceback)
	}
	if !strings.HasPrefix(se.Backtrace(), "test.lua:2: boom\nstack traceback:") {
		t.Errorf("Backtrace() = %q", se.Backtrace())
	}
	var ae *lua.ApiError
	if !errors.As(o.err, &ae) {
		t.Errorf("Unwrap does not lead to the *lua.ApiError")
	}
	if se.Code != "" {
		t.Errorf("code %q, want none for a string error", se.Code)
	}
}

func TestScriptErrorLevelZero(t *testing.T) {
	// error(msg, 0) carries no position: the engine finds it in the
	// traceback.
	o := runString(t, engine.Config{}, "\n\nerror('plain', 0)\n")
	se := o.scriptErr(t)
	if se.Message != "plain" || se.File != "test.lua" || se.Line != 3 {
		t.Errorf("got %q at %s:%d, want plain at test.lua:3", se.Message, se.File, se.Line)
	}
}

func TestScriptErrorOfErrorObject(t *testing.T) {
	// An argument error of a stdlib function is an error object with a
	// code.
	o := runString(t, engine.Config{}, "local json = require('json')\n\njson.decode({})\n")
	se := o.scriptErr(t)
	if se.Code != luart.CodeInvalidArgument {
		t.Fatalf("code %q, want invalid_argument (%v)", se.Code, se)
	}
	if se.Kind != engine.KindRuntime {
		t.Errorf("kind %q, want runtime for a non-etcd error object", se.Kind)
	}
	if se.File != "test.lua" || se.Line != 3 || !strings.HasPrefix(se.Message, "json.decode: bad argument #1") {
		t.Errorf("got %q at %s:%d", se.Message, se.File, se.Line)
	}
	var le *luart.Error
	if !errors.As(o.err, &le) || le.Code != luart.CodeInvalidArgument {
		t.Errorf("Unwrap does not lead to the *luart.Error")
	}
}

func TestScriptErrorOfTable(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"table", `error({code = "E42", detail = {n = 1}, "first"})`, `{"first", code = "E42", detail = {n = 1}}`},
		{"tostring", `error(setmetatable({}, {__tostring = function() return "custom message" end}))`, "custom message"},
		{"failing tostring", `error(setmetatable({x = 1}, {__tostring = function() error("nope") end}))`, "{x = 1}"},
		{"endless tostring", `error(setmetatable({y = 2}, {__tostring = function() while true do end end}))`, "{y = 2}"},
		{"cycle", `local t = {} t.self = t error(t)`, "{self = <cycle>}"},
		{"nil", `error(nil)`, "nil"},
		{"number", `error(42)`, "42"},
		{"userdata", `error(mod.thing())`, "userdata (*engine_test.thing): &{gadget}"},
		{"userdata error", `error(mod.failure())`, "host failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := engine.Config{Modules: map[string]lua.LGFunction{"mod": thingModule}}
			o := runString(t, cfg, "mod = require('mod')\n"+tc.src)
			se := o.scriptErr(t)
			if se.Message != tc.want {
				t.Errorf("message %q, want %q", se.Message, tc.want)
			}
			if se.File != "test.lua" || se.Line != 2 {
				t.Errorf("position %s:%d, want test.lua:2", se.File, se.Line)
			}
		})
	}
}

type thing struct{ name string }

// thingModule is a Go module whose functions return userdata.
func thingModule(L *lua.LState) int {
	m := L.NewTable()
	m.RawSetString("thing", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = &thing{name: "gadget"}
		L.Push(ud)
		return 1
	}))
	m.RawSetString("failure", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = errors.New("host failure")
		L.Push(ud)
		return 1
	}))
	L.Push(m)
	return 1
}

func TestSyntaxError(t *testing.T) {
	o := runString(t, engine.Config{}, "local a = 1\nlocal b = = 2\n")
	se := o.scriptErr(t)
	if se.Kind != engine.KindSyntax || o.res.ExitCode != engine.ExitSyntax {
		t.Fatalf("kind %q exit %d", se.Kind, o.res.ExitCode)
	}
	if se.File != "test.lua" || se.Line != 2 || !strings.Contains(se.Message, "near '='") {
		t.Errorf("got %q at %s:%d", se.Message, se.File, se.Line)
	}
	var ae *lua.ApiError
	if !errors.As(o.err, &ae) || ae.Type != lua.ApiErrorSyntax {
		t.Errorf("Unwrap does not lead to the syntax ApiError")
	}
}

func TestCheck(t *testing.T) {
	dir := writeFiles(t, map[string]string{"good.lua": "return 1", "bad.lua": "x = = 1"})
	e, _, _ := newEngine(t, engine.Config{})
	if err := e.Check(filepath.Join(dir, "good.lua")); err != nil {
		t.Errorf("good.lua: %v", err)
	}
	if err := e.Check(filepath.Join(dir, "bad.lua")); engine.ExitCode(err) != engine.ExitSyntax {
		t.Errorf("bad.lua: %v, want a syntax error", err)
	}
	if err := e.Check(filepath.Join(dir, "none.lua")); engine.ExitCode(err) != engine.ExitIO {
		t.Errorf("none.lua: %v, want an io error", err)
	}
}

func TestShebang(t *testing.T) {
	o := runString(t, engine.Config{}, "#!/usr/bin/env etcdscript run\n\nerror('x')")
	if se := o.scriptErr(t); se.Line != 3 {
		t.Errorf("line %d, want 3: the #! line counts", se.Line)
	}
}

func TestGoPanicInModule(t *testing.T) {
	cfg := engine.Config{Modules: map[string]lua.LGFunction{
		"bad": func(L *lua.LState) int {
			m := L.NewTable()
			m.RawSetString("explode", L.NewFunction(func(L *lua.LState) int {
				var p *thing
				_ = p.name // a nil dereference, the most common host bug
				return 0
			}))
			L.Push(m)
			return 1
		},
	}}
	o := runString(t, cfg, "local bad = require('bad')\nbad.explode()\nprint('after')")
	se := o.scriptErr(t)
	if se.Kind != engine.KindRuntime || o.res.ExitCode != engine.ExitError {
		t.Fatalf("kind %q exit %d", se.Kind, o.res.ExitCode)
	}
	if !strings.Contains(se.Message, "nil pointer dereference") {
		t.Errorf("message %q does not name the panic", se.Message)
	}
	// The user gets one line with a code and the Lua traceback; the Go
	// stack is kept apart, for a developer.
	if strings.Contains(se.Message, "\n") || se.Code != luart.CodeInternal {
		t.Errorf("message %q code %q, want one line with code internal", se.Message, se.Code)
	}
	if !strings.Contains(se.Traceback, "stack traceback:") || strings.Contains(se.Traceback, "goroutine") || strings.Contains(se.Traceback, ".go:") {
		t.Errorf("traceback is not the Lua one alone:\n%s", se.Traceback)
	}
	if !strings.Contains(se.GoStack, "goroutine") || !strings.Contains(se.GoStack, ".go:") {
		t.Errorf("GoStack lacks the Go stack:\n%s", se.GoStack)
	}
	if se.File != "test.lua" || se.Line != 2 {
		t.Errorf("position %s:%d, want test.lua:2", se.File, se.Line)
	}
	if strings.Contains(o.stdout, "after") {
		t.Error("the script went on after the panic")
	}
}

func TestGoPanicCaughtByPcall(t *testing.T) {
	cfg := engine.Config{Modules: map[string]lua.LGFunction{
		"bad": func(L *lua.LState) int {
			L.Push(L.NewFunction(func(L *lua.LState) int { panic("host bug") }))
			return 1
		},
	}}
	o := mustRun(t, cfg, "local ok, err = pcall(require('bad'))\nprint(ok, err)")
	if !strings.Contains(o.stdout, "false") || !strings.Contains(o.stdout, "host bug") {
		t.Errorf("stdout %q", o.stdout)
	}
}

func TestTimeoutStopsBusyLoop(t *testing.T) {
	o := runString(t, engine.Config{Timeout: 100 * time.Millisecond}, "local n = 0\nwhile true do n = n + 1 end\n")
	se := o.scriptErr(t)
	if se.Kind != engine.KindTimeout || o.res.ExitCode != engine.ExitTimeout {
		t.Fatalf("kind %q exit %d (%v)", se.Kind, o.res.ExitCode, se)
	}
	if !errors.Is(o.err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) is false")
	}
	if se.Code != luart.CodeScriptTimeout {
		t.Errorf("code %q", se.Code)
	}
	if se.File != "test.lua" || se.Line != 2 {
		t.Errorf("position %s:%d, want test.lua:2 where the loop was", se.File, se.Line)
	}
}

func TestTimeoutInsidePcall(t *testing.T) {
	// pcall catches the timeout error, but the script cannot run on.
	src := `while true do pcall(function() while true do end end) end`
	o := runString(t, engine.Config{Timeout: 100 * time.Millisecond}, src)
	if se := o.scriptErr(t); se.Kind != engine.KindTimeout {
		t.Fatalf("kind %q (%v)", se.Kind, se)
	}
}

func TestTimeoutOfContext(t *testing.T) {
	// A deadline of the host's context counts as a timeout too.
	e, _, _ := newEngine(t, engine.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := e.RunString(ctx, "x", "while true do end", nil)
	if res.ExitCode != engine.ExitTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exit %d error %v", res.ExitCode, err)
	}
}

func TestCancel(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	res, err := e.RunString(ctx, "x", "while true do end", nil)
	se, ok := engine.AsScriptError(err)
	if !ok || se.Kind != engine.KindCanceled || res.ExitCode != engine.ExitInterrupted {
		t.Fatalf("exit %d error %v", res.ExitCode, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) is false")
	}
}

func TestCancelDuringBlockingGoCall(t *testing.T) {
	// A Go function that blocks on the run's context is interrupted too.
	cfg := engine.Config{Timeout: 100 * time.Millisecond, Modules: map[string]lua.LGFunction{
		"block": func(L *lua.LState) int {
			L.Push(L.NewFunction(func(L *lua.LState) int {
				rt := engine.RuntimeOf(L)
				<-rt.Context().Done()
				luart.Raise(L, rt.NewError("block", "", rt.Context().Err()))
				return 0
			}))
			return 1
		},
	}}
	o := runString(t, cfg, "require('block')()")
	se := o.scriptErr(t)
	if se.Kind != engine.KindTimeout || !errors.Is(o.err, context.DeadlineExceeded) {
		t.Fatalf("kind %q error %v", se.Kind, o.err)
	}
}

func TestArgs(t *testing.T) {
	o := mustRun(t, engine.Config{}, `
local a, b = ...
print(arg[0], arg[1], arg[2], #arg, a, b, select("#", ...))
`, "one", "two")
	if want := "test.lua\tone\ttwo\t2\tone\ttwo\t2\n"; o.stdout != want {
		t.Errorf("stdout %q, want %q", o.stdout, want)
	}
}

func TestReturnValues(t *testing.T) {
	o := mustRun(t, engine.Config{}, `
local json = require("json")
return 1, 2.5, "s", true, nil, {1, 2, 3}, {a = {b = "c"}, [1.5] = "x"}, {}, json.array({}), {json.null}
`)
	want := []any{int64(1), 2.5, "s", true, nil, []any{int64(1), int64(2), int64(3)},
		map[string]any{"a": map[string]any{"b": "c"}, "1.5": "x"}, map[string]any{}, []any{}, []any{nil}}
	if !reflect.DeepEqual(o.res.Values, want) {
		t.Errorf("values %#v\nwant %#v", o.res.Values, want)
	}
}

func TestConcurrentRuns(t *testing.T) {
	// Runs on one engine share the chunk cache and the writers.
	dir := writeFiles(t, map[string]string{
		"main.lua": `local m = require("m") local s = 0 for i = 1, 1000 do s = s + m.f(i) end print(s) return s`,
		"m.lua":    `return {f = function(x) return x * 2 end}`,
	})
	e, stdout, _ := newEngine(t, engine.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			res, err := e.RunFile(context.Background(), filepath.Join(dir, "main.lua"), nil)
			if err != nil {
				errs <- err
				return
			}
			if !reflect.DeepEqual(res.Values, []any{int64(1001000)}) {
				errs <- errors.New("wrong result")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := strings.Count(stdout.String(), "1001000\n"); got != 8 {
		t.Errorf("stdout has %d results, want 8: %q", got, stdout.String())
	}
}

func TestRuntimeOf(t *testing.T) {
	var seen *luart.Runtime
	cfg := engine.Config{CallTimeout: 3 * time.Second, LogLevel: "warn", Modules: map[string]lua.LGFunction{
		"probe": func(L *lua.LState) int {
			seen = engine.RuntimeOf(L)
			L.Push(lua.LTrue)
			return 1
		},
	}}
	mustRun(t, cfg, `coroutine.wrap(function() require("probe") end)()`)
	if seen == nil {
		t.Fatal("RuntimeOf returned nil inside a run")
	}
	if seen.CallTimeout != 3*time.Second || seen.LogLevel != "warn" || !seen.Sandbox || seen.Loop == nil {
		t.Errorf("runtime %+v", seen)
	}
	L := lua.NewState()
	defer L.Close()
	if engine.RuntimeOf(L) != nil {
		t.Error("RuntimeOf of a foreign state is not nil")
	}
}
