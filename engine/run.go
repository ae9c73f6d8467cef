package engine

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/stdlib"
)

// run is one run of a script: one Lua state, one Runtime, on the goroutine
// that called RunFile or RunString. Nothing in it is touched by another
// goroutine except through the Runtime's Loop and context.
type run struct {
	e    *Engine
	name string // chunk name and arg[0]
	dir  string // the script's directory, "" for a string

	rt     *luart.Runtime
	runCtx context.Context // the caller's context bounded by Config.Timeout; Go calls use it
	vmCtx  context.Context // runCtx, also ended by os.exit; the VM checks it
	stopVM context.CancelFunc

	mod    *bindings.Module
	stdlib map[string]lua.LGFunction
	stdin  *bufio.Reader
	procs  []*popenProc // io.popen's commands, waited for when the run ends
	pcg    *rand.PCG
	rng    *rand.Rand

	// exitValue is the value os.exit raises; exited and exitCode record the
	// call, which outranks whatever error the unwinding produces.
	exitValue lua.LValue
	exited    bool
	exitCode  int

	// stopMemory ends the run with memory_limit (its cause, a
	// *luart.MemoryError); coDepth counts coroutines resumed inside one
	// another (see enterCoroutine).
	stopMemory context.CancelCauseFunc
	coDepth    int

	// initPath is the package.path the run started with; a script that
	// changes it (outside a sandbox) makes require follow its own path.
	initPath string
}

// Result is what a run produced.
type Result struct {
	// ExitCode is the exit code of the run: one of the Exit constants, or
	// the n of os.exit(n).
	ExitCode int
	// Values are the main chunk's return values as Go values (see
	// GoValue), for a host that wants data back, such as the CLI's
	// `-w json`.
	Values []any
}

// formatTimeout bounds a script's __tostring when the engine formats an
// uncaught error value after the run's own time is over.
const formatTimeout = 250 * time.Millisecond

func (e *Engine) run(ctx context.Context, name, dir string, src []byte, args []string) (*Result, error) {
	proto, err := e.chunks.compile(name, src)
	if err != nil {
		return &Result{ExitCode: ExitSyntax}, syntaxError(err)
	}

	// The budget ends last, once the state is closed: until then the
	// run's memory is not garbage, and the sampler must not charge it to
	// other runs.
	budgetCtx, stopBudget := context.WithCancelCause(ctx)
	defer stopBudget(nil)
	var budget *luart.Budget
	if limit := e.cfg.maxMemory(); limit > 0 {
		budget = luart.StartBudget(limit, stopBudget)
		defer budget.End()
	}

	var runCtx context.Context
	var cancelRun context.CancelFunc
	if e.cfg.Timeout > 0 {
		runCtx, cancelRun = context.WithTimeout(budgetCtx, e.cfg.Timeout)
	} else {
		runCtx, cancelRun = context.WithCancel(budgetCtx)
	}
	defer cancelRun()
	vmCtx, stopVM := context.WithCancel(runCtx)
	defer stopVM()

	r := &run{
		e:      e,
		name:   name,
		dir:    dir,
		runCtx: runCtx,
		vmCtx:  vmCtx,
		stopVM: stopVM,
		pcg:    rand.NewPCG(rand.Uint64(), rand.Uint64()),

		stopMemory: stopBudget,
	}
	r.rng = rand.New(r.pcg)
	var stdin io.Reader = strings.NewReader("")
	if e.stdin != nil {
		// A read of stdin ends with the run (stdin.go).
		stdin = ctxReader{s: e.stdin, ctx: vmCtx}
	}
	r.stdin = bufio.NewReaderSize(stdin, stdinChunk)
	r.rt = &luart.Runtime{
		// Go functions get the run's context, which os.exit leaves alive:
		// cleanup done while os.exit unwinds (etcd.lock unlocking) still
		// works. The VM gets vmCtx, so no Lua code runs after os.exit.
		Ctx:         runCtx,
		CallTimeout: e.cfg.callTimeout(),
		Stdout:      e.stdout,
		Stderr:      e.stderr,
		Sandbox:     !e.cfg.NoSandbox,
		LogLevel:    strings.ToLower(e.cfg.LogLevel),
		Getenv:      e.cfg.Getenv,
		Classify:    classify,
		Loop:        luart.NewLoop(),
		Memory:      budget,
	}
	r.mod = bindings.New(r.rt, e.backend(r))

	L := lua.NewState(stateOptions())
	defer L.Close()
	L.SetContext(vmCtx)

	var values []lua.LValue
	if err = L.GPCall(r.setup, lua.LNil); err == nil {
		values, err = r.main(L, proto, args)
	}
	res := &Result{}
	se := r.outcome(L, err)
	if se != nil {
		res.ExitCode = se.ExitCode
	} else if r.exited {
		res.ExitCode = r.exitCode
	}
	if se == nil && !r.exited {
		if res.Values, err = r.convertValues(values); err != nil {
			se = r.outcome(L, err)
			res.ExitCode = se.ExitCode
		}
	}

	// The module's cleanup (unlocking, revoking session leases) runs
	// while the run's context is still alive when the script ended well.
	// Its errors are not the script's: the run's outcome stands.
	_ = r.mod.Close()
	stopVM()
	r.closeProcs()
	r.rt.Loop.Close()
	if se != nil {
		return res, se
	}
	return res, nil
}

// main runs the main chunk with args and then, while a watch or a
// keepalive holds the event loop, dispatches its callbacks.
func (r *run) main(L *lua.LState, proto *lua.FunctionProto, args []string) ([]lua.LValue, error) {
	arg := L.CreateTable(len(args), 1)
	arg.RawSetInt(0, lua.LString(r.name))
	for i, a := range args {
		arg.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", arg)

	base := L.GetTop()
	L.Push(L.NewFunctionFromProto(proto))
	for _, a := range args {
		L.Push(lua.LString(a))
	}
	if err := L.PCall(len(args), lua.MultRet, nil); err != nil {
		return nil, err
	}
	n := L.GetTop() - base
	values := make([]lua.LValue, n)
	for i := range values {
		values[i] = L.Get(base + 1 + i)
	}
	L.SetTop(base)
	if r.exited {
		return nil, nil
	}
	loop := r.rt.Loop
	if loop.Active() > 0 || loop.Pending() > 0 {
		if err := loop.Run(r.vmCtx, L, -1); err != nil {
			return nil, err
		}
	}
	return values, nil
}

// setup prepares the state, inside a protected call so that nothing it
// does can panic through the host.
func (r *run) setup(L *lua.LState) int {
	setRun(L, r)
	r.openLibs(L)
	r.mod.Install(L)
	mods := stdlib.All()
	r.stdlib = make(map[string]lua.LGFunction, len(mods))
	for _, m := range mods {
		r.stdlib[m.Name] = m.Open(r.rt)
	}
	for name, fn := range r.e.cfg.Modules {
		L.PreloadModule(name, fn)
	}
	r.setGlobals(L)
	if r.e.cfg.Setup != nil {
		r.e.cfg.Setup(L)
	}
	return 0
}

// backend is what the etcd module of run r calls: the default client,
// made on first use, seen through the namespace.
func (e *Engine) backend(r *run) bindings.Backend {
	b := bindings.Backend{
		Client: func() (*client.Client, error) {
			cctx, cancel := r.rt.CallContext()
			defer cancel()
			return e.defaultClient(cctx)
		},
		Dial: r.dial,
	}
	if ns := e.cfg.Namespace; ns != "" && e.cfg.Client != nil {
		// The host's client is not ours to change: the module gets
		// namespaced views of it instead. (A client made by Connect is
		// the engine's, and is namespaced itself when it is made.)
		cli := e.cfg.Client
		b.KV = namespace.NewKV(cli.KV, ns)
		b.Watcher = namespace.NewWatcher(cli.Watcher, ns)
		b.Lease = namespace.NewLease(cli.Lease, ns)
		b.LockNamespace = ns
	}
	return b
}

// dial makes the client of etcd.connect{...}.
func (r *run) dial(cfg client.Config) (*client.Client, error) {
	if r.e.cfg.Dial != nil {
		return r.e.cfg.Dial(r.rt.Context(), cfg)
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	return client.New(cfg)
}

// classify maps a Go error to its error code: the client's classification,
// with a failed Config.Connect reading as unavailable.
func classify(err error) (string, bool) {
	var ce *connectError
	if errors.As(err, &ce) {
		if c := client.Classify(ce.err); c.Code != client.CodeUnavailable {
			return luart.CodeUnavailable, true
		}
	}
	c := client.Classify(err)
	return string(c.Code), c.Retryable
}

// runKey names the run's userdata in the registry, for RuntimeOf.
const runKey = "etcdscript.engine.run"

func setRun(L *lua.LState, r *run) {
	ud := L.NewUserData()
	ud.Value = r
	L.G.Registry.RawSetString(runKey, ud)
}

func getRun(L *lua.LState) *run {
	ud, ok := L.G.Registry.RawGetString(runKey).(*lua.LUserData)
	if !ok {
		return nil
	}
	r, _ := ud.Value.(*run)
	return r
}

// RuntimeOf returns the luart.Runtime of the run that owns L (or one of its
// coroutines), or nil when L is not an engine's state. A Go module (see
// Config.Modules) uses it for the run's context, writers and event loop.
func RuntimeOf(L *lua.LState) *luart.Runtime {
	if r := getRun(L); r != nil {
		return r.rt
	}
	return nil
}

// readAllStdin reads the rest of the run's stdin.
func (r *run) readAllStdin() ([]byte, error) { return io.ReadAll(r.stdin) }
