package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Limits of the built-ins that allocate in proportion to an argument.
// gopher-lua's own versions allocate whatever they are asked for (one
// string.rep can end the process) and never look at the run's context;
// these check the size against the run's memory budget before they
// allocate, and the context while they work.
const (
	// maxStringSize bounds a string a built-in makes when the run has no
	// budget: beyond it the process could not allocate it anyway.
	maxStringSize = 1 << 40
	// maxUnpack bounds unpack's results: half the value stack (see
	// stateOptions), so that the call after it still has room.
	maxUnpack = 1 << 20
	// maxCoroutineDepth bounds coroutines resumed inside one another. Each
	// level holds a Go stack of its own, as each level of C calls does in
	// Lua (whose C stack limit, LUAI_MAXCCALLS, is also 200).
	maxCoroutineDepth = 200
	// maxCoroutineArgs bounds the values passed to a coroutine in one
	// resume: gopher-lua moves them one by one into a vararg frame, which
	// for a million values ran for minutes, past any deadline. Lua 5.1's
	// own C stack bound (LUAI_MAXCSTACK) is 8000.
	maxCoroutineArgs = 1 << 13
	// checkBytes is how many bytes a built-in copies between two looks at
	// the run's context: about a millisecond of copying on a busy machine.
	checkBytes = 1 << 20
	// valueSize is what one Lua value takes on the stack or in a table.
	valueSize = 16
)

// stockLibs leaves gopher-lua's own built-ins in place: for
// BenchmarkPureLua, which measures what the checks cost. Nothing else sets
// it.
var stockLibs = false

// limitLibs replaces the built-ins that allocate in proportion to an
// argument with versions that honour the budget and the deadline, and
// guards every library function against Go panics.
func (r *run) limitLibs(L *lua.LState) {
	if stockLibs {
		return
	}
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("rep", L.NewFunction(r.strRep))
	str.RawSetString("format", L.NewFunction(r.strFormat))
	str.RawSetString("byte", L.NewFunction(r.strByte))
	str.RawSetString("char", L.NewFunction(strChar))
	tab := L.GetGlobal("table").(*lua.LTable)
	tab.RawSetString("concat", L.NewFunction(r.tableConcat))
	L.SetGlobal("unpack", L.NewFunction(r.unpack))
	co := L.GetGlobal("coroutine").(*lua.LTable)
	co.RawSetString("wrap", L.NewFunction(r.coWrap(co.RawGetString("wrap"))))

	guardFuncs(L.G.Global)
	for _, name := range []string{"string", "table", "math", "os", "io", "coroutine", "debug", "package"} {
		if t, ok := L.GetGlobal(name).(*lua.LTable); ok {
			guardFuncs(t)
		}
	}
}

// guardFuncs makes the Go functions of t raise an internal error object
// when they panic, instead of letting the panic's text (or, uncaught, a
// Go stack) reach the script's user. The functions keep their identity.
func guardFuncs(t *lua.LTable) {
	t.ForEach(func(_, v lua.LValue) {
		if f, ok := v.(*lua.LFunction); ok && f.IsG && f.GFunction != nil {
			f.GFunction = guardPanic(f.GFunction)
		}
	})
}

func guardPanic(fn lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(*lua.ApiError); ok {
					panic(p) // a Lua error on its way: not ours to stop
				}
				luart.Raise(L, &luart.Error{
					Code:    luart.CodeInternal,
					Message: "internal error in a Go function: " + firstLine(fmt.Sprint(p)),
				})
			}
		}()
		return fn(L)
	}
}

// sizeCheck refuses a result of n bytes for op: over the run's budget it
// ends the run with memory_limit; with no budget, beyond what any process
// could hold, it raises invalid_argument.
func (r *run) sizeCheck(L *lua.LState, op string, n float64, what string) int {
	if n <= 0 {
		return 0
	}
	size := int64(math.Min(n, math.MaxInt64/2))
	r.rt.Reserve(L, op, size, what+" of "+luart.FormatSize(size))
	if n > maxStringSize {
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "%s of %s is too large", what, luart.FormatSize(size)))
	}
	return int(size)
}

// strRep is Lua 5.1's string.rep(s, n): n copies of s, made in chunks with
// a look at the run's context between them.
func (r *run) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := math.Floor(float64(L.CheckNumber(2)))
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	total := r.sizeCheck(L, "string.rep", float64(len(s))*n, "a string")
	buf := make([]byte, total)
	filled := copy(buf, s)
	// Doubling copies: each copy takes what is already there, up to a
	// chunk, so few calls do the work and the context is seen often.
	for filled < total {
		r.rt.Check(L, "string.rep")
		filled += copy(buf[filled:], buf[:min(filled, checkBytes)])
	}
	L.Push(lua.LString(unsafe.String(&buf[0], len(buf))))
	return 1
}

// tableConcat is Lua 5.1's table.concat(t [, sep [, i [, j]]]): it sizes
// the result first, against the budget, and looks at the context while
// it works.
func (r *run) tableConcat(L *lua.LState) int {
	const op = "table.concat"
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt64(3, 1)
	j := L.OptInt64(4, int64(t.Len()))
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	item := func(k int64) string {
		v := t.RawGetInt(int(k))
		switch v.(type) {
		case lua.LString, lua.LNumber:
			return lua.LVAsString(v)
		}
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "invalid value (%s) at index %d in table for concat", v.Type().String(), k))
		return ""
	}
	var size float64
	for k := i; k <= j; k++ {
		if (k-i)%luart.CheckEvery == 0 {
			r.rt.Check(L, op)
		}
		size += float64(len(item(k)))
		if k < j {
			size += float64(len(sep))
		}
	}
	var b strings.Builder
	b.Grow(r.sizeCheck(L, op, size, "a string"))
	next := 0 // the length at which to look at the context again
	for k := i; k <= j; k++ {
		if (k-i)%luart.CheckEvery == 0 || b.Len() >= next {
			r.rt.Check(L, op)
			next = b.Len() + checkBytes
		}
		b.WriteString(item(k))
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// unpack is Lua 5.1's unpack(t [, i [, j]]). The stack grows once for all
// the results (gopher-lua grows it 32 slots at a time, copying it each
// time, which took minutes for a million results).
func (r *run) unpack(L *lua.LState) int {
	const op = "unpack"
	t := L.CheckTable(1)
	i := L.OptInt64(2, 1)
	j := L.OptInt64(3, int64(t.Len()))
	if i > j {
		return 0
	}
	n := j - i + 1
	if n <= 0 || n > maxUnpack {
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "too many results to unpack (%d, at most %d)", uint64(j-i)+1, maxUnpack))
	}
	return r.pushMany(L, op, n, func(k int64) lua.LValue { return t.RawGetInt(int(i + k)) })
}

// pushMany pushes n values, value(k) for k in 0..n-1, growing the stack
// once and looking at the run's context as it goes (gopher-lua grows the
// stack 32 slots at a time, copying it each time: a million results took
// minutes, past any deadline). n is at most maxUnpack, and asked of the
// budget.
func (r *run) pushMany(L *lua.LState, op string, n int64, value func(k int64) lua.LValue) int {
	if n <= 0 {
		return 0
	}
	if n > maxUnpack {
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "too many results (%d, at most %d)", uint64(n), maxUnpack))
	}
	r.rt.Reserve(L, op, n*valueSize, strconv.FormatInt(n, 10)+" results")
	top := L.GetTop()
	L.SetTop(top + int(n))
	for k := int64(0); k < n; k++ {
		if k%luart.CheckEvery == 0 {
			r.rt.Check(L, op)
		}
		L.Replace(top+1+int(k), value(k))
	}
	return int(n)
}

// strByte is Lua 5.1's string.byte(s [, i [, j]]): the bytes s[i..j], j
// defaulting to i, negative positions counting from the end.
func (r *run) strByte(L *lua.LState) int {
	s := L.CheckString(1)
	l := int64(len(s))
	pos := func(p int64) int64 {
		if p < 0 {
			return l + p + 1
		}
		return p
	}
	i := pos(L.OptInt64(2, 1))
	j := pos(L.OptInt64(3, i))
	i = max(i, 1)
	j = min(j, l)
	if i > j {
		return 0
	}
	return r.pushMany(L, "string.byte", j-i+1, func(k int64) lua.LValue { return lua.LNumber(s[i-1+k]) })
}

// coWrap is coroutine.wrap with the nesting bound of resume.
func (r *run) coWrap(wrap lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(wrap)
		L.Push(L.Get(1))
		L.Call(1, 1)
		fn := L.Get(-1)
		L.Pop(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			defer r.enterCoroutine(L, L.GetTop())()
			return forwardCall(L, fn)
		}))
		return 1
	}
}

// enterCoroutine counts a coroutine resumed inside another; beyond
// maxCoroutineDepth the run ends with memory_limit, as each level holds a
// Go stack. The returned function leaves the level.
func (r *run) enterCoroutine(L *lua.LState, nargs int) func() {
	if nargs > maxCoroutineArgs {
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, "coroutine.resume", "", "too many values passed to a coroutine (%d, at most %d)", nargs, maxCoroutineArgs))
	}
	if r.coDepth >= maxCoroutineDepth {
		err := &luart.MemoryError{Op: "coroutine.resume", What: fmt.Sprintf("coroutines nested more than %d deep", maxCoroutineDepth)}
		r.stopMemory(err)
		luart.Raise(L, &luart.Error{Code: luart.CodeMemoryLimit, Op: err.Op, Message: err.Message(), Cause: err})
	}
	r.coDepth++
	return func() { r.coDepth-- }
}

// strChar is Lua 5.1's string.char: each argument a byte, 0 to 255 (a
// numeric string counts as its number, a fraction is dropped). gopher-lua's
// wrapped other values into a byte without a word (256 became "\0", -1
// "\255") and refused "66".
func strChar(L *lua.LState) int {
	n := L.GetTop()
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		v := math.Trunc(float64(L.CheckNumber(i)))
		if !(v >= 0 && v <= 255) {
			L.ArgError(i, "invalid value: "+lua.LNumber(v).String()+" is not a byte (0 to 255)")
		}
		b[i-1] = byte(v)
	}
	L.Push(lua.LString(b))
	return 1
}
