package engine

import (
	"math"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// openLibs opens gopher-lua's libraries and then takes back what acts on
// the host process: output goes to the engine's writers, os.exit ends the
// run, collectgarbage and the rest of what touches the whole process are
// gone, and a sandbox loses every way to the host (docs/cli.md).
// The channel library is not opened: its blocking operations ignore the
// run's context.
func (r *run) openLibs(L *lua.LState) {
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
		{lua.DebugLibName, lua.OpenDebug},
		{lua.IoLibName, lua.OpenIo},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	r.fixBase(L)
	r.fixPackage(L)
	r.fixBuiltins(L)
	r.fixCoroutine(L)
	r.fixDebug(L)
	// The long built-ins first, so that limitLibs's panic guard covers
	// them too.
	r.fixLongBuiltins(L)
	r.limitLibs(L)
	r.setModule(L, "io", r.ioModule(L))
	r.setModule(L, "os", r.osModule(L))
}

// setModule makes t the global name and package.loaded[name].
func (r *run) setModule(L *lua.LState, name string, t *lua.LTable) {
	L.SetGlobal(name, t)
	loaded := L.GetField(L.Get(lua.RegistryIndex), "_LOADED")
	L.SetField(loaded, name, t)
}

func (r *run) fixBase(L *lua.LState) {
	g := L.G.Global
	g.RawSetString("print", L.NewFunction(r.print))
	g.RawSetString("pcall", L.NewFunction(r.pcall))
	g.RawSetString("xpcall", L.NewFunction(r.xpcall))
	// load and loadstring compile as the engine does (gopher-lua's own
	// compiler output needs fixTForLoops); load takes a string too, as
	// since Lua 5.2: load(s [, chunkname]).
	g.RawSetString("loadstring", L.NewFunction(func(L *lua.LState) int {
		return loadChunk(L, L.CheckString(1), L.OptString(2, "<string>"))
	}))
	g.RawSetString("load", L.NewFunction(func(L *lua.LState) int {
		if s, ok := L.Get(1).(lua.LString); ok {
			return loadChunk(L, string(s), L.OptString(2, "<string>"))
		}
		fn := L.CheckFunction(1)
		name := L.OptString(2, "?")
		var src strings.Builder
		for {
			L.Push(fn)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			if piece == lua.LNil {
				break
			}
			if !lua.LVCanConvToString(piece) {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			if piece.String() == "" {
				break
			}
			src.WriteString(piece.String())
		}
		return loadChunk(L, src.String(), name)
	}))
	// A whole-program GC, and a register dump to the process's stderr.
	g.RawSetString("collectgarbage", lua.LNil)
	g.RawSetString("_printregs", lua.LNil)
	if r.rt.Sandbox {
		g.RawSetString("loadfile", blocked(L, "loadfile"))
		g.RawSetString("dofile", blocked(L, "dofile"))
	} else {
		g.RawSetString("loadfile", L.NewFunction(r.loadfile))
		g.RawSetString("dofile", L.NewFunction(r.dofile))
	}
}

// loadChunk compiles src and pushes the function, or nil and the message.
func loadChunk(L *lua.LState, src, name string) int {
	p, err := compileChunk(name, []byte(src))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(L.NewFunctionFromProto(p))
	return 1
}

// fixBuiltins puts back what gopher-lua does otherwise than Lua 5.1 in the
// math and base libraries, and gives the run a random source of its own.
func (r *run) fixBuiltins(L *lua.LState) {
	// gopher-lua's random draws from the process-wide source; a run gets
	// its own, which math.randomseed reseeds.
	m := L.GetGlobal("math").(*lua.LTable)
	m.RawSetString("random", L.NewFunction(r.random))
	m.RawSetString("randomseed", L.NewFunction(r.randomseed))
	// gopher-lua's math.huge is the largest float, not infinity: 1/0 was
	// greater than it.
	m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	L.SetGlobal("tonumber", L.NewFunction(toNumber))
	// Lua 5.1 refuses what gopher-lua lets pass: table.insert with more
	// than three arguments (it dropped the rest), setmetatable on what is
	// not a table (it set the metatable of the whole type: every string's).
	L.GetGlobal("table").(*lua.LTable).RawSetString("insert", L.NewFunction(tableInsert))
	L.SetGlobal("setmetatable", L.NewFunction(setMetatable))
	L.SetGlobal("rawset", L.NewFunction(rawSet))
}

func (r *run) fixCoroutine(L *lua.LState) {
	co := L.GetGlobal("coroutine").(*lua.LTable)
	resume := co.RawGetString("resume")
	// resume catches the errors of the coroutine, os.exit's included.
	co.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
		defer r.enterCoroutine(L, L.GetTop()-1)()
		n := forwardCall(L, resume)
		r.reraiseExit(L)
		return n
	}))
}

func (r *run) fixDebug(L *lua.LState) {
	if !r.rt.Sandbox {
		return
	}
	// In a sandbox, debug keeps what error handlers use; the rest reaches
	// into other functions' locals, upvalues and environments.
	full := L.GetGlobal("debug").(*lua.LTable)
	d := L.CreateTable(0, 2)
	for _, name := range []string{"traceback", "getinfo"} {
		d.RawSetString(name, full.RawGetString(name))
	}
	r.setModule(L, "debug", d)
}

// print writes its arguments to the engine's stdout, as Lua's print does:
// tostring of each, tab-separated, with a newline, in one write.
func (r *run) print(L *lua.LState) int {
	top := L.GetTop()
	var b strings.Builder
	for i := 1; i <= top; i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(lua.LVAsString(L.ToStringMeta(L.Get(i))))
	}
	b.WriteByte('\n')
	r.rt.StdoutWriter().Write([]byte(b.String()))
	return 0
}

// pcall is Lua's pcall, except that it cannot catch os.exit.
func (r *run) pcall(L *lua.LState) int {
	L.CheckAny(1)
	v := L.Get(1)
	if v.Type() != lua.LTFunction && L.GetMetaField(v, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	// luart.PCall, not L.PCall: gopher-lua's own closes the upvalues of
	// running functions when the call fails (see luart.PCall).
	if err := luart.PCall(L, L.GetTop()-1, lua.MultRet); err != nil {
		r.reraiseExit(L)
		luart.ForgetNil(L)
		L.Push(lua.LFalse)
		L.Push(errorObject(err))
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// xpcall is Lua 5.1's xpcall(f, handler), except that it cannot catch
// os.exit.
func (r *run) xpcall(L *lua.LState) int {
	fn := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, handler); err != nil {
		r.reraiseExit(L)
		luart.ForgetNil(L)
		L.Push(lua.LFalse)
		L.Push(errorObject(err))
		return 2
	}
	L.Insert(lua.LTrue, top+1)
	return L.GetTop() - top
}

func errorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// loadfile([name]) compiles a file (the run's stdin without a name) and
// returns it as a function, or nil and a message.
func (r *run) loadfile(L *lua.LState) int {
	fn, err := r.loadFileChunk(L, L.OptString(1, ""))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// dofile([name]) runs a file (the run's stdin without a name) and returns
// what it returns.
func (r *run) dofile(L *lua.LState) int {
	fn, err := r.loadFileChunk(L, L.OptString(1, ""))
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	top := L.GetTop()
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

func (r *run) loadFileChunk(L *lua.LState, name string) (*lua.LFunction, error) {
	var src []byte
	var err error
	if name == "" {
		name = "stdin"
		src, err = r.readAllStdin()
	} else {
		src, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	p, err := r.e.chunks.compile(name, src)
	if err != nil {
		return nil, err
	}
	return L.NewFunctionFromProto(p), nil
}

func (r *run) random(L *lua.LState) int {
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r.rng.Float64()))
	case 1:
		n := L.CheckInt64(1)
		if n < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(1 + r.rng.Int64N(n)))
	default:
		lo, hi := L.CheckInt64(1), L.CheckInt64(2)
		if lo > hi {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(lo + r.rng.Int64N(hi-lo+1)))
	}
	return 1
}

func (r *run) randomseed(L *lua.LState) int {
	seed := uint64(L.CheckInt64(1))
	r.pcg.Seed(seed, seed)
	return 0
}

// blocked is what a sandbox puts in place of a function that reaches the
// host: it raises permission_denied naming the function, which reads
// better than "attempt to call a nil value".
func blocked(L *lua.LState, name string) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		luart.Raise(L, &luart.Error{
			Code:    luart.CodePermissionDenied,
			Op:      name,
			Message: "off in a sandboxed run: scripts there reach nothing but etcd and their output",
		})
		return 0
	})
}

// tableInsert is Lua 5.1's table.insert(t, [pos,] v).
func tableInsert(L *lua.LState) int {
	t := L.CheckTable(1)
	switch n := L.GetTop(); n {
	case 2:
		t.Append(L.Get(2))
	case 3:
		t.Insert(int(L.CheckInt(2)), L.Get(3))
	default:
		L.RaiseError("wrong number of arguments to 'insert' (%d; it takes a table, a value, and maybe a position before it)", n)
	}
	return 0
}

// rawSet is Lua 5.1's rawset(t, k, v), which returns t; gopher-lua's
// returns nothing.
func rawSet(L *lua.LState) int {
	L.RawSet(L.CheckTable(1), L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

// setMetatable is Lua 5.1's setmetatable(t, mt): t must be a table.
func setMetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	L.CheckTypes(2, lua.LTNil, lua.LTTable)
	if mt, ok := t.Metatable.(*lua.LTable); ok && mt.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, L.Get(2))
	L.SetTop(1)
	return 1
}
