// Package luart is the per-run Lua runtime that the etcd bindings, the stdlib
// modules and the engine share.
//
// A Runtime holds what one script run is allowed to reach: its context, its
// writers, its sandbox flag, its environment and the hook that classifies Go
// errors into the stable error codes of docs/lua.md. The engine fills one in
// per run; bindings and stdlib modules only read it.
//
// The package also holds the pieces every Go function called from Lua needs:
//
//   - Error, the error object scripts catch with pcall (err.code, err.message,
//     err.op, err.key, err.retryable), with Raise, ErrorValue and FromValue to
//     move it across the Lua boundary unchanged;
//   - Args and Options, argument checks that raise invalid_argument naming the
//     function and the argument, cheap enough for the hot path of every call;
//   - Loop, the event loop that carries results of other goroutines (watch
//     events, lease losses) to the script's single Lua thread;
//   - Budget, a run's memory budget, kept by a process-wide heap sampler,
//     with Runtime.Reserve for built-ins to ask before they allocate and
//     Runtime.Check for long ones to look at the run's deadline;
//   - Poll and Runtime.RaiseEnded, with which a built-in that loops long in
//     Go (a pattern match, a sort, a decoder) notices the end of the run's
//     context, which gopher-lua checks only between instructions;
//   - Progress, a terminal progress bar that stays silent off a terminal
//     (TerminalWriter lets a wrapping writer say it stands for one);
//   - NoteNil and NilHint, which name the call whose nil result a script
//     indexed, when the bytecode proves that is where the nil came from;
//   - CallHint, which names what a script called when gopher-lua says only
//     "attempt to call a non-function object", when one call on the line
//     can be the one that failed;
//   - the array mark and the null sentinel shared by json, yaml and the
//     bindings, so that empty arrays and nulls survive a round trip.
//
// Nothing here knows about etcd: the engine plugs the client's classification
// in through Runtime.Classify.
package luart
