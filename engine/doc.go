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
// the run's event loop (luart.Loop), at the dispatch points of LUA_API.md;
// after the main chunk returns, the run keeps dispatching while a watch or
// a keepalive is active. Runs on different goroutines may share an engine.
//
// The run's context, bounded by Config.Timeout, is set on the Lua VM, which
// checks it before every instruction, so a timeout or a cancel stops a busy
// loop; it is also the context of every etcd call (each further bounded by
// Config.CallTimeout), so it stops a call that waits on the network.
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
// order function for sorting" as Lua does), the json and yaml codecs (every
// 1024 values, and through the reader and writer of yaml's parser and
// emitter), io.read and io.lines on Config.Stdin (a read waits for data or
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
// module, only debug.traceback and debug.getinfo of the debug library, and
// the environment only through Config.Getenv. A blocked function raises an
// error object with code permission_denied naming it. Config.NoSandbox
// lifts all that; os.execute and io.popen then run `/bin/sh -c` under the
// run's context with their output on the engine's writers (io.popen's
// close returns true, or nil, "exit" and the status, as in Lua 5.2).
//
// require looks in package.preload (the etcd module, Config.Modules), then
// beside the script, then on Config.LibPaths, then in the stdlib. Go code
// of a module reaches the run through RuntimeOf.
//
// # Outcomes
//
// Result.ExitCode follows LUA_API.md section 2: ExitOK, ExitError for an
// uncaught error, ExitConnect when no etcd endpoint could be reached,
// ExitSyntax, ExitInterrupted after a cancel, ExitIO, ExitTimeout, or the n
// of os.exit(n). Any exit code but 0 comes with a *ScriptError: its Kind,
// `FILE:LINE: message`, the Lua traceback, the error object's code, and
// Unwrap to the Go cause (errors.Is(err, context.DeadlineExceeded) after a
// timeout; the client's error, such as rpctypes.ErrCompacted, after a
// failed etcd call). A Go panic in a function the script called ends the
// run with a ScriptError carrying the Go stack, never the host. The main
// chunk's return values come back as Go values (GoValue).
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
// The value stack may grow to 2M slots, where the default overflows on
// ordinary data work.
//
// Package enginetest runs scripts from Go tests against an etcd server
// started in the test process.
package engine
