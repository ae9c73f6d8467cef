// Package engine runs etcdscript's Lua scripts: it is the embedding API
// behind `etcdscript run` and the way a Go program runs scripts of its own.
//
//	e, err := engine.New(engine.Config{Client: cli, Stdout: os.Stdout, Stderr: os.Stderr})
//	if err != nil {
//		return err
//	}
//	defer e.Close()
//	res, err := e.RunFile(ctx, "seed.lua", args)
//	if se, ok := engine.AsScriptError(err); ok {
//		fmt.Fprintln(os.Stderr, se.Backtrace())
//	}
//	os.Exit(res.ExitCode)
//
// # Runs
//
// An Engine holds what runs share: its Config, the default client and a
// cache of compiled chunks (keyed by chunk name and a hash of the source,
// so a changed file is compiled again). Each RunFile or RunString makes a
// fresh Lua state and runs the script on the calling goroutine: gopher-lua
// states are not safe for concurrent use, so nothing else touches it.
// Asynchronous results (watch events, lost leases) reach the script through
// the run's event loop (luart.Loop), at the dispatch points of docs/lua.md;
// after the main chunk returns, the run keeps dispatching while a watch or
// a keepalive is active. Runs on different goroutines may share an engine.
//
// The run's context, bounded by Config.Timeout, is set on the Lua VM, which
// checks it before every instruction, so a timeout or a cancel stops a busy
// loop; it is also the context of every etcd call (each further bounded by
// Config.CallTimeout), so it stops a call that waits on the network.
//
// # Limits
//
// A script is untrusted input: whatever it does, its run ends within its
// deadline and its memory budget, and the host and its other runs go on.
//
// Memory. Config.MaxMemory is a run's budget (DefaultMaxMemory, 256 MiB,
// when zero; none when negative). gopher-lua has no allocator hook, so the
// budget is kept two ways. The built-ins that allocate in proportion to an
// argument (string.rep, string.format, string.byte, table.concat, unpack,
// os.date, io.read(n) and "*a", strings.split and strings.join) compute the
// size first, or grow within the budget, and refuse what would take the
// run over; a process-wide sampler (luart.Budget) reads the Go heap every
// 10 ms and stops a run whose growth is over. Either way the run ends with an error
// of code memory_limit (Kind KindMemory, ExitMemory, errors.Is
// luart.ErrMemoryLimit) that pcall cannot catch: its context is canceled,
// so no Lua code of the run executes after it, as with a timeout.
//
// Attribution. A run is charged the growth of the whole process's heap
// since it started, measured from the live heap of the last collection
// before its start (lowered whenever a later collection finds less live,
// so memory freed after the run started is no room for it to grow into):
// the Go runtime cannot tell which goroutine holds what.
// So no run can grow the process by more than its budget, and a run may
// be charged for what another run, or the host, allocated meanwhile. When
// a run is over, the sampler stops the youngest run charged at least half
// its budget (the youngest that saw most of the growth; maybe not the one
// over), waits for it to end, collects the garbage and judges the others
// again: a long-lived run survives a younger one that blows up, a run
// started after the growth is not stopped for it, but an idle run may be
// stopped for an older one's growth. Before stopping a run on a sample
// the sampler forces a collection (at most ten a second) unless the last
// collection already found the heap over, so garbage does not count. A
// built-in refuses a request that alone is over the budget, or that is
// large (a sixteenth of the budget or more) and would take the run's
// live charge over; smaller ones are left to the sampler.
//
// Overshoot. The heap can go past a budget by what the run allocates
// between two samples (10 ms) and while the sampler collects, and by one
// VM instruction: `..`, a table constructor or a table's growth is done
// by the VM in one step and cannot be refused, so `s = s .. s` can
// allocate twice the string before the run sees it was stopped. The run
// may also be charged for what was allocated, not yet collected, just
// before it started (up to one collection cycle's worth). The budget
// bounds the heap, not the process's RSS. debug.SetMemoryLimit is not
// used: it is the host's.
//
// Coroutines resumed inside one another more than 200 deep end the run
// with memory_limit whatever the budget: each level holds a Go stack.
// Other bounds of the same kind are plain errors of code invalid_argument:
// at most 1,048,576 results from unpack or string.byte, 8,192 values
// passed to a coroutine at once, format widths and precisions of two
// digits (as in Lua); and a chunk (a script, or what load compiles) may
// nest at most 1000 syntax levels (blocks, expressions), a syntax error
// beyond: gopher-lua's compiler recurses once per level on the Go stack.
//
// Time. The VM checks the run's context before every instruction; the
// built-ins above also check it every thousand items or megabyte, so none
// keeps a run past its deadline by more than a few milliseconds of work.
//
// Values. Tables nested deeper than MaxValueDepth (1000) levels are not
// converted for the host: Result.Values and Session results fail with
// ErrValueTooDeep (code invalid_argument), GoValue cuts them with
// "<too deep>"; the conversion checks the run's context too.
//
// Go panics. A Go panic in a library function becomes an error object of
// code internal with a one-line message (pcall catches it); uncaught, or
// from any other Go function, it ends the run with a ScriptError of code
// internal whose GoStack holds the Go stack for a developer; Message and
// Traceback never show it.
//
// # Built-ins that run long
//
// gopher-lua checks the context only between VM instructions, so a single
// built-in call could hold a run (and the host's goroutine) past its
// deadline. The engine's versions of those built-ins look at the run's
// context themselves and, when it has ended, raise the run's timeout or
// interrupt error object (code script_timeout or canceled) where they were
// called: string.find, match, gmatch and gsub (the engine's own Lua 5.1
// pattern matcher, which counts its backtracking steps and looks every 1024
// of them), table.sort (every 1024 comparisons; it also raises "invalid
// order function for sorting" as Lua does), os.date (every 1024
// conversions; it is the engine's own, Lua 5.1's with glibc's conversions
// in the C locale, where gopher-lua's gets several wrong), the json and
// yaml codecs (every 1024 values, and through the reader and writer of
// yaml's parser and emitter), io.read and io.lines on Config.Stdin (a read waits for data or
// the context, whichever comes first; see Config.Stdin for what becomes of
// the read it abandons), and io.popen and os.execute, whose commands run in
// a process group of their own that is killed, children included, when the
// context ends (a command still open when the run ends is killed too).
//
// # What scripts reach
//
// print, io.write and io.stdout/io.stderr write to Config.Stdout and
// Config.Stderr, io.read and io.lines() read Config.Stdin, and os.exit(n)
// ends the run (not the process) with exit code n, even inside pcall.
// collectgarbage, os.setenv, os.setlocale and gopher-lua's channel library,
// which act on the whole process or ignore the run's context, are not
// offered. math.random has a source per run.
//
// By default a run is sandboxed: no io files or io.popen, no os.execute,
// os.remove, os.rename, os.tmpname, os.getenv, loadfile or dofile, no fs
// module, no etcd.snapshot (it writes a file), only debug.traceback and
// debug.getinfo of the debug library, and the environment only through
// Config.Getenv. A blocked function raises an
// error object with code permission_denied naming it. Config.NoSandbox
// lifts all that; os.execute and io.popen then run `/bin/sh -c` under the
// run's context with their output on the engine's writers (io.popen's
// close returns true, or nil, "exit" and the status, as in Lua 5.2).
//
// require looks in package.preload (the etcd module, Config.Modules), then
// beside the script, then on Config.LibPaths, then in the stdlib. Go code
// of a module reaches the run through RuntimeOf.
//
// Config.Globals predeclares values in every run without any gopher-lua
// code: data (numbers, strings, slices, maps with string keys) and Go
// functions of type Func, whose arguments and results are converted by
// GoValue and LuaValue and whose error becomes an error object. A module
// written against gopher-lua can use LuaValue for the same conversion.
//
// # Outcomes
//
// Result.ExitCode follows docs/cli.md: ExitOK, ExitError for an
// uncaught error, ExitConnect when no etcd endpoint could be reached,
// ExitSyntax, ExitInterrupted after a cancel, ExitIO, ExitTimeout,
// ExitMemory over the memory budget, or the n of os.exit(n). Any exit code
// but 0 comes with a *ScriptError: its Kind, `FILE:LINE: message`, the Lua
// traceback, the error object's code, and Unwrap to the Go cause
// (errors.Is(err, context.DeadlineExceeded) after a timeout,
// errors.Is(err, luart.ErrMemoryLimit) over the budget; the client's
// error, such as rpctypes.ErrCompacted, after a failed etcd call). A Go
// panic in a function the script called ends the run with a ScriptError
// of code internal (its Go stack in GoStack), never the host. The main
// chunk's return values come back as Go values (GoValue).
//
// A script that indexes the nil an etcd call returned (etcd.get of a
// missing key, election:leader without a leader, watch:next that timed
// out) fails with gopher-lua's "attempt to index a non-table object(nil)
// with key 'value'", followed by a hint that names the call, its key and
// line, and the test to write (`local kv = etcd.get(k); if kv then ...
// end`). The hint is given only when the code between the call and the
// failure proves the nil is the call's (see luart.NoteNil); never on a
// failure that pcall caught and something else repeated.
//
// # gopher-lua, repaired
//
// The engine works around defects of gopher-lua v1.1.2 that scripts would
// otherwise meet. pcall closes the upvalues of functions still running when
// the protected call fails (yuin/gopher-lua#448): the engine's pcall is
// built on an error handler instead (luart.PCall). The compiler's
// jump-to-jump pass sends a loop whose body starts with a jump (a generic
// for of one `break` after an earlier loop, say) to a wrong instruction, or
// past the end of the code: the engine compiles every chunk, load and
// loadstring included, with guards that keep jumps off jumps (jumpfix.go).
// It also loads a generic for's key into the register of the call result
// it indexes, so `for x in f().iter() do` called nil: such a loop's
// expressions are evaluated into hidden locals first (hoistForExprs).
// The value stack may grow to 2M slots, where the default overflows on
// ordinary data work.
//
// Package enginetest runs scripts from Go tests against an etcd server
// started in the test process.
package engine
