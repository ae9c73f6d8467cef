package engine

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// stream is io.stdin, io.stdout or io.stderr of a run: the engine's reader
// and writers seen as Lua files.
type stream struct {
	name string
	w    io.Writer     // nil when not writable
	r    *bufio.Reader // nil when not readable

	// ctx and rt, when set, are the run's: a read that the end of ctx
	// cut short raises the run's timeout or interrupt error.
	ctx context.Context
	rt  *luart.Runtime

	proc   *popenProc // the command of an io.popen file
	closed bool
}

// streamMetaKey names the stream metatable in the registry.
const streamMetaKey = "etcdscript.stream"

// ioModule builds the io table of a run. Its standard streams are the
// engine's; io.write, io.read, io.lines, io.input and io.output work on them
// (or, outside a sandbox, on files from io.open, which are gopher-lua's).
// A sandbox has no file functions at all.
func (r *run) ioModule(L *lua.LState) *lua.LTable {
	orig := L.GetGlobal("io").(*lua.LTable)
	mt := L.CreateTable(0, 3)
	methods := L.SetFuncs(L.CreateTable(0, 8), map[string]lua.LGFunction{
		"write":   streamWrite,
		"read":    streamRead,
		"lines":   streamLines,
		"flush":   streamFlush,
		"close":   streamClose,
		"setvbuf": streamSetVBuf,
		"seek":    streamSeek,
	})
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(streamToString))
	mt.RawSetString("__metatable", lua.LString("file"))
	L.G.Registry.RawSetString(streamMetaKey, mt)

	stdout := newStreamValue(L, &stream{name: "stdout", w: r.rt.StdoutWriter()})
	stderr := newStreamValue(L, &stream{name: "stderr", w: r.rt.StderrWriter()})
	stdin := newStreamValue(L, &stream{name: "stdin", r: r.stdin, ctx: r.vmCtx, rt: r.rt})
	lib := &ioLib{r: r, orig: orig, out: stdout, in: stdin}

	t := L.CreateTable(0, 14)
	t.RawSetString("stdout", stdout)
	t.RawSetString("stderr", stderr)
	t.RawSetString("stdin", stdin)
	L.SetFuncs(t, map[string]lua.LGFunction{
		"write":  lib.write,
		"read":   lib.read,
		"lines":  lib.lines,
		"output": lib.output,
		"input":  lib.input,
		"close":  lib.close,
		"flush":  lib.flush,
		"type":   lib.typ,
	})
	for _, name := range []string{"open", "popen", "tmpfile"} {
		if r.rt.Sandbox {
			t.RawSetString(name, blocked(L, "io."+name))
		} else {
			t.RawSetString(name, orig.RawGetString(name))
		}
	}
	if !r.rt.Sandbox {
		// The engine's own: its command dies with the run (procs.go).
		t.RawSetString("popen", L.NewFunction(r.popen))
	}
	return t
}

// newStreamValue makes s a Lua file, with the run's stream metatable.
func newStreamValue(L *lua.LState, s *stream) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = s
	ud.Metatable = L.G.Registry.RawGetString(streamMetaKey)
	return ud
}

// ioLib holds the default input and output of a run's io functions.
type ioLib struct {
	r    *run
	orig *lua.LTable // gopher-lua's io, for its file functions
	out  lua.LValue
	in   lua.LValue
}

func toStream(v lua.LValue) (*stream, bool) {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil, false
	}
	s, ok := ud.Value.(*stream)
	return s, ok
}

// callMethod calls obj:name(...) with the arguments from stack slot from
// on, and returns the number of results it left on the stack.
func callMethod(L *lua.LState, obj lua.LValue, name string, from int) int {
	top := L.GetTop()
	L.Push(L.GetField(obj, name))
	L.Push(obj)
	for i := from; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top-from+2, lua.MultRet)
	return L.GetTop() - top
}

func (l *ioLib) write(L *lua.LState) int {
	if s, ok := toStream(l.out); ok {
		return s.write(L, l.out, 1)
	}
	return callMethod(L, l.out, "write", 1)
}

func (l *ioLib) read(L *lua.LState) int {
	if s, ok := toStream(l.in); ok {
		return s.read(L, 1)
	}
	return callMethod(L, l.in, "read", 1)
}

func (l *ioLib) lines(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		if s, ok := toStream(l.in); ok {
			L.Push(s.linesIter(L))
			return 1
		}
		L.SetTop(0)
		return callMethod(L, l.in, "lines", 1)
	}
	if l.r.rt.Sandbox {
		return blockedCall(L, "io.lines")
	}
	return l.callOrig(L, "lines")
}

// output and input: no argument returns the current default, a file sets
// it, a file name opens that file (outside a sandbox).
func (l *ioLib) output(L *lua.LState) int { return l.setDefault(L, &l.out, "io.output", "w") }
func (l *ioLib) input(L *lua.LState) int  { return l.setDefault(L, &l.in, "io.input", "r") }

func (l *ioLib) setDefault(L *lua.LState, def *lua.LValue, fn, mode string) int {
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LString:
		if l.r.rt.Sandbox {
			return blockedCall(L, fn)
		}
		L.SetTop(0)
		L.Push(l.orig.RawGetString("open"))
		L.Push(v)
		L.Push(lua.LString(mode))
		L.Call(2, 2)
		if L.Get(1) == lua.LNil {
			L.RaiseError("%s: %s", fn, lua.LVAsString(L.Get(2)))
		}
		*def = L.Get(1)
	default:
		if !l.isFile(L, v) {
			L.ArgError(1, "file expected, got "+v.Type().String())
		}
		*def = v
	}
	L.Push(*def)
	return 1
}

func (l *ioLib) isFile(L *lua.LState, v lua.LValue) bool {
	if _, ok := toStream(v); ok {
		return true
	}
	L.Push(l.orig.RawGetString("type"))
	L.Push(v)
	L.Call(1, 1)
	t := L.Get(-1)
	L.Pop(1)
	return t == lua.LString("file")
}

func (l *ioLib) close(L *lua.LState) int {
	f := L.Get(1)
	if f == lua.LNil {
		f = l.out
	}
	L.SetTop(0)
	return callMethod(L, f, "close", 1)
}

func (l *ioLib) flush(L *lua.LState) int {
	L.SetTop(0)
	return callMethod(L, l.out, "flush", 1)
}

func (l *ioLib) typ(L *lua.LState) int {
	if s, ok := toStream(L.Get(1)); ok {
		if s.closed {
			L.Push(lua.LString("closed file"))
		} else {
			L.Push(lua.LString("file"))
		}
		return 1
	}
	return l.callOrig(L, "type")
}

// callOrig calls gopher-lua's io function name with this call's arguments.
func (l *ioLib) callOrig(L *lua.LState, name string) int {
	return forwardCall(L, l.orig.RawGetString(name))
}

// forwardCall calls fn with the arguments of the running Go function and
// returns fn's results as its own.
func forwardCall(L *lua.LState, fn lua.LValue) int {
	top := L.GetTop()
	L.Push(fn)
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, lua.MultRet)
	return L.GetTop() - top
}

// blockedCall raises the sandbox's permission_denied for fn.
func blockedCall(L *lua.LState, fn string) int {
	L.Push(blocked(L, fn))
	L.Call(0, 0)
	return 0
}

func checkStream(L *lua.LState) *stream {
	s, ok := toStream(L.Get(1))
	if !ok {
		L.ArgError(1, "file expected")
	}
	if s.closed {
		L.RaiseError("attempt to use a closed file")
	}
	return s
}

func streamWrite(L *lua.LState) int {
	return checkStream(L).write(L, L.Get(1), 2)
}

// write writes the strings and numbers from slot from on and returns the
// file, so that writes chain (io.stdout:write("a"):write("b")).
func (s *stream) write(L *lua.LState, self lua.LValue, from int) int {
	if s.w == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(s.name + " is not writable"))
		return 2
	}
	top := L.GetTop()
	var b strings.Builder
	for i := from; i <= top; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(v.String())
		default:
			L.ArgError(i, "string expected, got "+v.Type().String())
		}
	}
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		s.raiseIfEnded(L, "io.write", err)
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(self)
	return 1
}

func streamRead(L *lua.LState) int {
	return checkStream(L).read(L, 2)
}

// read reads in the formats from slot from on ("*l" when none): "*l" a
// line without its newline, "*L" with it, "*a" the rest, "*n" a number, or
// a byte count. The first format that finds nothing yields nil and ends
// the reading, as in Lua.
func (s *stream) read(L *lua.LState, from int) int {
	if s.r == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(s.name + " is not readable"))
		return 2
	}
	top := L.GetTop()
	if top < from {
		L.Push(lua.LString("*l"))
		top = from
	}
	n := 0
	for i := from; i <= top; i++ {
		v, err := s.readOne(L, i)
		// Whatever was read, a read cut short by the end of the run ends
		// the script here.
		s.raiseIfEnded(L, "io.read", err)
		if err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString(err.Error()))
			return n + 2
		}
		L.Push(v)
		n++
		if v == lua.LNil {
			break
		}
	}
	return n
}

func (s *stream) readOne(L *lua.LState, i int) (lua.LValue, error) {
	switch f := L.Get(i).(type) {
	case lua.LNumber:
		if f < 1 {
			if _, err := s.r.Peek(1); err != nil {
				return lua.LNil, eofNil(err)
			}
			return lua.LString(""), nil
		}
		buf, err := s.readN(L, float64(f))
		if len(buf) == 0 {
			return lua.LNil, eofNil(err)
		}
		return lua.LString(buf), eofNil(err)
	case lua.LString:
		switch strings.TrimPrefix(string(f), "*") {
		case "l", "L":
			line, err := s.r.ReadString('\n')
			if line == "" {
				return lua.LNil, eofNil(err)
			}
			if f == "*l" || f == "l" {
				line = strings.TrimSuffix(line, "\n")
			}
			return lua.LString(line), nil
		case "a":
			// As io.read(n) with no n: the buffer grows within the budget.
			b, err := s.readN(L, math.Inf(1))
			return lua.LString(b), eofNil(err)
		case "n":
			return s.readNumber()
		}
	}
	L.ArgError(i, "invalid format")
	return lua.LNil, nil
}

// readChunk is the first buffer of io.read(n); each later one doubles it.
const readChunk = 64 << 10

// readN reads up to n bytes for io.read(n). Its buffer grows as the bytes
// come, each growth asked of the run's memory budget first, rather than
// being allocated at n up front: io.read(2^40) on a short input reads the
// input, and on an endless one ends the run with memory_limit.
func (s *stream) readN(L *lua.LState, n float64) ([]byte, error) {
	var buf []byte
	for float64(len(buf)) < n {
		grow := int(math.Min(n-float64(len(buf)), float64(max(len(buf), readChunk))))
		size := len(buf) + grow
		// Growing by doubling holds, for a moment, the new buffer, the
		// old one and the garbage of the earlier ones (up to twice size
		// in all), and the string made of it copies it once more: asking
		// for three times size keeps this check ahead of the heap
		// sampler, so a read too large for the budget is always the one
		// named in the error.
		s.rt.Reserve(L, "io.read", 3*int64(size), "a read of "+luart.FormatSize(int64(size)))
		buf = slices.Grow(buf, grow)[:size]
		got, err := io.ReadFull(s.r, buf[size-grow:])
		buf = buf[:size-grow+got]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// readNumber reads a number after optional white space, or returns nil
// when what follows is not one.
func (s *stream) readNumber() (lua.LValue, error) {
	var b strings.Builder
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return lua.LNil, eofNil(err)
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			s.r.UnreadByte()
			break
		}
	}
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			break
		}
		if !strings.ContainsRune("0123456789+-.eExXabcdefABCDEF", rune(c)) {
			s.r.UnreadByte()
			break
		}
		b.WriteByte(c)
	}
	text := b.String()
	if n, err := strconv.ParseFloat(text, 64); err == nil {
		return lua.LNumber(n), nil
	}
	if n, err := strconv.ParseInt(text, 0, 64); err == nil {
		return lua.LNumber(n), nil
	}
	return lua.LNil, nil
}

// eofNil turns end of input into "no value" rather than an error.
func eofNil(err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

func streamLines(L *lua.LState) int {
	L.Push(checkStream(L).linesIter(L))
	return 1
}

// linesIter returns an iterator over the lines of s, without newlines.
func (s *stream) linesIter(L *lua.LState) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		if s.r == nil {
			L.RaiseError("%s is not readable", s.name)
		}
		line, err := s.r.ReadString('\n')
		s.raiseIfEnded(L, "io.lines", err)
		if line == "" {
			if err := eofNil(err); err != nil {
				L.RaiseError("%s: %v", s.name, err)
			}
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LString(strings.TrimSuffix(line, "\n")))
		return 1
	})
}

func streamFlush(L *lua.LState) int {
	s := checkStream(L)
	if f, ok := s.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString(err.Error()))
			return 2
		}
	}
	L.Push(L.Get(1))
	return 1
}

// streamClose refuses, as Lua does for the standard files: they belong to
// the engine. An io.popen file closes, and waits for its command.
func streamClose(L *lua.LState) int {
	if s := checkStream(L); s.proc != nil {
		return s.closeProc(L)
	}
	L.Push(lua.LNil)
	L.Push(lua.LString("cannot close standard file"))
	return 2
}

func streamSetVBuf(L *lua.LState) int {
	checkStream(L)
	L.Push(lua.LTrue)
	return 1
}

func streamSeek(L *lua.LState) int {
	s := checkStream(L)
	L.Push(lua.LNil)
	L.Push(lua.LString("cannot seek " + s.name))
	return 2
}

func streamToString(L *lua.LState) int {
	s, ok := toStream(L.Get(1))
	switch {
	case !ok:
		L.ArgError(1, "file expected")
	case s.closed:
		L.Push(lua.LString("file (closed)"))
	default:
		L.Push(lua.LString("file (" + s.name + ")"))
	}
	return 1
}
