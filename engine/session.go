package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/luart"
)

// ErrIncomplete is wrapped by the error Session.Eval returns for a chunk
// that ends before its statements do (an open `function`, a table, a
// string): a REPL reads another line and tries again with both.
var ErrIncomplete = errors.New("engine: incomplete chunk")

// ErrSessionEnded is returned by Session.Eval after Close, or after a
// chunk called os.exit.
var ErrSessionEnded = errors.New("engine: session ended")

// Session is one Lua state kept across many chunks, for an interactive
// REPL: the globals a chunk defines, the clients it connects and the
// watches it starts are there for the next. It has the run's libraries,
// the etcd module on the engine's default client, and the engine's
// sandbox, writers and timeouts.
//
// A Session is used by one goroutine at a time; Close ends it.
type Session struct {
	e    *Engine
	r    *run
	L    *lua.LState
	name string

	// base lives as long as the session; every chunk's context derives
	// from it, so Close ends whatever any chunk started.
	base       context.Context
	cancelBase context.CancelFunc

	// rtCtx and vmCtx are the contexts the runtime and the VM hold for
	// the whole session; they stand for the context of the chunk running.
	rtCtx, vmCtx *switchContext

	// cancels release the contexts of past chunks at Close: a chunk's
	// context outlives its Eval, because a watch or a coroutine it made
	// lives on in it.
	cancels []context.CancelFunc
	ended   bool
}

// EvalResult is what one chunk of a session produced.
type EvalResult struct {
	// Values are the chunk's results, converted as GoValue does.
	Values []any
	// Text renders each result for a person, as the REPL prints it:
	// strings as they are, tables as Lua constructors (sorted keys,
	// bounded depth), error objects and values with __tostring through it.
	Text []string
	// Exited is set when the chunk called os.exit; ExitCode is its code.
	// The session is over: later Evals return ErrSessionEnded.
	Exited   bool
	ExitCode int
}

// NewSession starts a session. name is the chunk name of what Eval runs
// (the FILE of its error messages; "stdin" when empty) and arg[0]. dir,
// when not empty, is searched by require before Config.LibPaths, as a
// script's own directory is. Nothing connects until the first etcd call.
func (e *Engine) NewSession(name, dir string) (*Session, error) {
	if err := e.usable(context.Background()); err != nil {
		return nil, err
	}
	if name == "" {
		name = "stdin"
	}
	base, cancelBase := context.WithCancel(context.Background())
	s := &Session{
		e:          e,
		name:       name,
		base:       base,
		cancelBase: cancelBase,
		rtCtx:      newSwitchContext(base),
		vmCtx:      newSwitchContext(base),
	}
	r := &run{
		e:      e,
		name:   name,
		dir:    dir,
		runCtx: base,
		vmCtx:  base,
		stopVM: func() {},
		pcg:    rand.NewPCG(rand.Uint64(), rand.Uint64()),
	}
	r.rng = rand.New(r.pcg)
	// The session reads its own input; chunks see an empty stdin.
	r.stdin = bufio.NewReader(strings.NewReader(""))
	r.rt = &luart.Runtime{
		Ctx:         s.rtCtx,
		CallTimeout: e.cfg.callTimeout(),
		Stdout:      e.stdout,
		Stderr:      e.stderr,
		Sandbox:     !e.cfg.NoSandbox,
		LogLevel:    strings.ToLower(e.cfg.LogLevel),
		Getenv:      e.cfg.Getenv,
		Classify:    classify,
		Loop:        luart.NewLoop(),
	}
	r.mod = bindings.New(r.rt, e.backend(r))
	s.r = r

	L := lua.NewState(stateOptions())
	// Coroutines take a child of the VM's context when they are made; the
	// switching context makes that the context of the chunk that made
	// them, so a coroutine outlives its chunk unless that chunk is
	// canceled.
	L.SetContext(s.vmCtx)
	s.L = L
	if err := L.GPCall(r.setup, lua.LNil); err != nil {
		s.Close()
		return nil, fmt.Errorf("engine: starting a session: %w", err)
	}
	arg := L.CreateTable(0, 1)
	arg.RawSetInt(0, lua.LString(name))
	L.SetGlobal("arg", arg)
	return s, nil
}

// Eval compiles and runs one chunk in the session, as the lua REPL does: a
// chunk that starts with "=" is an expression (`= 1 + 2`), a chunk that
// compiles as `return <chunk>` runs as that so its values come back, and
// any other chunk runs as it is. Callbacks that are due (watch events, lost
// leases) are dispatched after the chunk.
//
// ctx bounds the chunk: when it ends while Eval runs, the chunk is stopped
// and what it started (watches, keepalives, coroutines) ends with it.
// After Eval returns, ctx no longer matters: what the chunk started lives on
// until Close, or until Config.Timeout after the chunk started.
//
// The error is nil, a *ScriptError (as RunString's, with ExitCode set), an
// error wrapping ErrIncomplete (also a *ScriptError of kind syntax) for a
// chunk that needs more lines, or ErrSessionEnded.
func (s *Session) Eval(ctx context.Context, src string) (*EvalResult, error) {
	if err := s.e.usable(ctx); err != nil {
		return nil, err
	}
	if s.ended {
		return nil, ErrSessionEnded
	}
	proto, err := s.compile(src)
	if err != nil {
		return nil, err
	}

	values, err, exited, code := s.exec(ctx, func(L *lua.LState) int {
		L.Push(L.NewFunctionFromProto(proto))
		return 0
	})
	if exited {
		return &EvalResult{Exited: true, ExitCode: code}, err
	}
	if err != nil {
		return nil, err
	}
	// The session's own context: the chunk's is over once exec returns.
	conv, err := goValuesContext(s.base, values)
	if err != nil {
		return nil, &ScriptError{Kind: KindRuntime, ExitCode: ExitError, Code: luart.CodeInvalidArgument, Message: err.Error(), cause: err}
	}
	res := &EvalResult{Values: conv}
	for _, v := range values {
		res.Text = append(res.Text, s.render(v))
	}
	return res, nil
}

// exec runs what push puts on the stack (a function, then nargs
// arguments; push returns nargs) as Eval runs a chunk: under ctx, bounded
// by Config.Timeout, dispatching due callbacks after it. It returns the
// results, or the ScriptError, and whether the code called os.exit.
func (s *Session) exec(ctx context.Context, push func(L *lua.LState) int) ([]lua.LValue, error, bool, int) {
	// The chunk's context: the session's, bounded by Config.Timeout and by
	// ctx's deadline, and canceled when ctx is canceled while Eval runs.
	causeCtx, stopCause := context.WithCancelCause(s.base)
	s.cancels = append(s.cancels, func() { stopCause(nil) })
	var budget *luart.Budget
	if limit := s.e.cfg.maxMemory(); limit > 0 {
		// The budget is the chunk's: what the session held before it
		// is not charged to it.
		budget = luart.StartBudget(limit, stopCause)
		defer budget.End()
	}
	lineCtx, cancel := context.WithCancel(causeCtx)
	s.cancels = append(s.cancels, cancel)
	if t := s.e.cfg.Timeout; t > 0 {
		lineCtx, cancel = context.WithTimeout(lineCtx, t)
		s.cancels = append(s.cancels, cancel)
	}
	if d, ok := ctx.Deadline(); ok {
		lineCtx, cancel = context.WithDeadline(lineCtx, d)
		s.cancels = append(s.cancels, cancel)
	}
	cancelLine := cancel
	stopAfter := context.AfterFunc(ctx, func() { cancelLine() })
	defer stopAfter()
	vmCtx, stopVM := context.WithCancel(lineCtx)
	s.cancels = append(s.cancels, stopVM)

	r := s.r
	r.runCtx, r.vmCtx, r.stopVM = lineCtx, vmCtx, stopVM
	r.stopMemory, r.rt.Memory = stopCause, budget
	s.rtCtx.set(lineCtx)
	s.vmCtx.set(vmCtx)
	defer func() {
		s.rtCtx.set(s.base)
		s.vmCtx.set(s.base)
		r.rt.Memory = nil // the chunk's budget ends with it
	}()

	L := s.L
	// A line interrupted between an etcd call and its failure must not
	// leave a nil hint for a later line.
	luart.ForgetNil(L)
	base := L.GetTop()
	nargs := push(L)
	err := L.PCall(nargs, lua.MultRet, nil)
	var values []lua.LValue
	if err == nil {
		n := L.GetTop() - base
		values = make([]lua.LValue, n)
		for i := range values {
			values[i] = L.Get(base + 1 + i)
		}
		if !r.exited {
			// Callbacks already due run now, in the chunk's context.
			err = r.rt.Loop.Run(vmCtx, L, 0)
		}
	}
	var outErr error
	if se := r.outcome(L, err); se != nil {
		outErr = se // never a typed nil in the interface
	}
	L.SetTop(base)
	if r.exited {
		s.end()
		return nil, outErr, true, r.exitCode
	}
	if outErr != nil {
		return nil, outErr, false, 0
	}
	return values, nil, false, 0
}

// Call calls fn, a value of the session (a function a chunk returned or
// defined), with args, as Eval runs a chunk, and returns its results. Hosts
// use it to drive functions a script hands them: the migration runner calls
// a migration's up and down this way. The error is nil, a *ScriptError, or
// ErrSessionEnded.
func (s *Session) Call(ctx context.Context, fn lua.LValue, args ...lua.LValue) ([]lua.LValue, error) {
	if err := s.e.usable(ctx); err != nil {
		return nil, err
	}
	if s.ended {
		return nil, ErrSessionEnded
	}
	values, err, _, _ := s.exec(ctx, func(L *lua.LState) int {
		L.Push(fn)
		for _, a := range args {
			L.Push(a)
		}
		return len(args)
	})
	return values, err
}

// Load compiles src as the chunk called name (a file's path: errors read
// name:LINE) and runs it, returning its results as Lua values. Unlike
// Eval it does not try src as an expression.
func (s *Session) Load(ctx context.Context, name string, src []byte) ([]lua.LValue, error) {
	if s.ended {
		return nil, ErrSessionEnded
	}
	proto, err := compileChunk(name, src)
	if err != nil {
		return nil, syntaxError(err)
	}
	return s.Call(ctx, s.L.NewFunctionFromProto(proto))
}

// Runtime returns the session's runtime: what a host's Go function needs
// to build values of the session (the etcd module over another backend,
// error objects).
func (s *Session) Runtime() *luart.Runtime { return s.r.rt }

// compile compiles src as the REPL reads it.
func (s *Session) compile(src string) (*lua.FunctionProto, error) {
	trimmed := strings.TrimSpace(src)
	if rest, ok := strings.CutPrefix(trimmed, "="); ok {
		src = "return " + rest
	} else if p, err := compileChunk(s.name, []byte("return "+src)); err == nil {
		return p, nil
	}
	p, err := compileChunk(s.name, []byte(src))
	if err == nil {
		return p, nil
	}
	se := syntaxError(err)
	if incomplete(err) {
		se.cause = fmt.Errorf("%w: %w", ErrIncomplete, se.cause)
	}
	return nil, se
}

// incomplete reports whether a compile error is the parser running out of
// input, which more lines may cure.
func incomplete(err error) bool {
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		return false
	}
	var pe *parse.Error
	if !errors.As(ae.Cause, &pe) {
		return false
	}
	if pe.Pos.Line == parse.EOF {
		return true
	}
	// An unfinished long string or comment is reported at its start.
	return strings.Contains(pe.Message, "unterminated")
}

// render writes a chunk's result for a person.
func (s *Session) render(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case *lua.LTable:
		if str, ok := callToString(s.L, v); ok {
			return str
		}
		return dumpTable(x)
	}
	return formatValue(s.L, v)
}

// Close ends the session: the etcd module's cleanup (locks released,
// session leases revoked), then every context a chunk started, then the
// state. The engine's default client stays open for the engine. Close is
// idempotent.
func (s *Session) Close() error {
	if s.L == nil {
		return nil
	}
	s.end()
	err := s.r.mod.Close()
	s.cancelBase()
	for _, c := range s.cancels {
		c()
	}
	s.cancels = nil
	s.r.rt.Loop.Close()
	s.L.Close()
	s.L = nil
	return err
}

func (s *Session) end() { s.ended = true }

// switchContext is a context that stands for another one, changed between
// chunks: the runtime and the VM keep one context for the whole session,
// and each chunk makes it its own. It ends when the context it stands for
// ends. Contexts derived from it are derived from the context it stood
// for at the time, so a watch or a coroutine keeps its chunk's context.
type switchContext struct {
	cur atomic.Pointer[ctxBox]
}

type ctxBox struct{ ctx context.Context }

func newSwitchContext(ctx context.Context) *switchContext {
	c := &switchContext{}
	c.set(ctx)
	return c
}

func (c *switchContext) set(ctx context.Context)     { c.cur.Store(&ctxBox{ctx}) }
func (c *switchContext) get() context.Context        { return c.cur.Load().ctx }
func (c *switchContext) Deadline() (time.Time, bool) { return c.get().Deadline() }
func (c *switchContext) Done() <-chan struct{}       { return c.get().Done() }
func (c *switchContext) Err() error                  { return c.get().Err() }
func (c *switchContext) Value(key any) any           { return c.get().Value(key) }
