package engine

import (
	"errors"
	"os/exec"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// exitSignal is the Go value of what os.exit raises.
type exitSignal struct{ code int }

// osModule builds the os table of a run from gopher-lua's: clock and
// difftime as they are; date and time our own (osdate.go); exit ends the
// run, not the process;
// setenv and setlocale, which act on the whole process, are gone; the
// functions that reach the host are blocked in a sandbox.
func (r *run) osModule(L *lua.LState) *lua.LTable {
	orig := L.GetGlobal("os").(*lua.LTable)
	t := L.CreateTable(0, 10)
	for _, name := range []string{"clock", "difftime"} {
		t.RawSetString(name, orig.RawGetString(name))
	}
	t.RawSetString("date", L.NewFunction(r.osDate))
	t.RawSetString("time", L.NewFunction(r.osTime))
	t.RawSetString("exit", L.NewFunction(r.osExit))
	if r.rt.Sandbox {
		for _, name := range []string{"execute", "remove", "rename", "tmpname", "getenv"} {
			t.RawSetString(name, blocked(L, "os."+name))
		}
		return t
	}
	for _, name := range []string{"remove", "rename", "tmpname"} {
		t.RawSetString(name, orig.RawGetString(name))
	}
	t.RawSetString("execute", L.NewFunction(r.osExecute))
	t.RawSetString("getenv", L.NewFunction(r.osGetenv))
	return t
}

// osExit ends the run with an exit code: os.exit() and os.exit(true) with
// 0, os.exit(false) with 1, os.exit(n) with n (0 to 255). It raises a value
// that the engine's pcall, xpcall and coroutine.resume pass on, and it ends
// the state's context, so no Lua code runs after it even where some Go
// function catches errors.
func (r *run) osExit(L *lua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if !v {
			code = 1
		}
	default:
		a := luart.Args{L: L, Fn: "os.exit"}
		n := a.Int(1, "code")
		if n < 0 || n > 255 {
			a.Fail(1, "code", "exit code must be 0 to 255, got %d", n)
		}
		code = int(n)
	}
	r.exited, r.exitCode = true, code
	ud := L.NewUserData()
	ud.Value = exitSignal{code: code}
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("os.exit(" + strconv.Itoa(code) + ")"))
		return 1
	}))
	ud.Metatable = mt
	r.exitValue = ud
	r.stopVM()
	L.Error(ud, 0)
	return 0
}

// reraiseExit raises the os.exit value again once the script has called
// os.exit: for the functions that catch errors.
func (r *run) reraiseExit(L *lua.LState) {
	if r.exited {
		L.Error(r.exitValue, 0)
	}
}

// osExecute runs a shell command under the run's context, its output going
// to the engine's writers, and returns its exit status: os.execute() says
// a shell is there (1), os.execute(cmd) returns 0 on success. The command
// gets no stdin: the run's stdin belongs to the script. When the run ends
// while it runs, its process group is killed (procs.go) and os.execute
// raises the run's timeout or interrupt.
func (r *run) osExecute(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		L.Push(lua.LNumber(1))
		return 1
	}
	line := luart.Args{L: L, Fn: "os.execute"}.String(1, "command")
	cmd := r.command(line, nil)
	cmd.Stdout = r.rt.StdoutWriter()
	cmd.Stderr = r.rt.StderrWriter()
	err := cmd.Run()
	if r.vmCtx.Err() != nil {
		r.rt.RaiseEnded(L, "os.execute", r.vmCtx)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		L.Push(lua.LNumber(0))
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		L.Push(lua.LNumber(ee.ExitCode()))
	default:
		L.Push(lua.LNumber(1))
	}
	return 1
}

// osGetenv reads the environment the run may see: the host's Getenv hook,
// else the process's.
func (r *run) osGetenv(L *lua.LState) int {
	name := luart.Args{L: L, Fn: "os.getenv"}.String(1, "name")
	if v, ok := r.rt.LookupEnv(name); ok {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}
