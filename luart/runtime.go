package luart

import (
	"context"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Runtime is what one script run shares with the Go functions it calls. The
// engine builds one per run and sets its fields before the script starts;
// they must not change while the script runs.
type Runtime struct {
	// Ctx is the run's context: it ends on the script's --timeout, on a
	// signal, or when the host cancels the run. Nil means context.Background.
	Ctx context.Context

	// CallTimeout bounds each single call (--command-timeout); 0 means no
	// bound beyond Ctx.
	CallTimeout time.Duration

	// Stdout and Stderr are the run's writers. Nil writers discard.
	Stdout, Stderr io.Writer

	// Sandbox is set when the script may reach nothing outside etcd and the
	// engine's writers (no fs module, no process environment unless Getenv
	// allows it).
	Sandbox bool

	// LogLevel is the least level the log module writes: debug, info, warn
	// or error. Empty or unknown means info.
	LogLevel string

	// Getenv looks up an environment variable for the env module. Nil means
	// os.LookupEnv, except under Sandbox where nil means no environment.
	Getenv func(name string) (string, bool)

	// Classify maps a Go error to an error code and whether repeating the
	// call may succeed. The engine plugs in the etcd client's classifier;
	// nil means DefaultClassify.
	Classify func(error) (code string, retryable bool)

	// Loop carries asynchronous results to the script's thread. Nil means
	// the run has no asynchronous sources: waits simply sleep.
	Loop *Loop

	// Now returns the current time for log lines, time.now, os.time and
	// os.date. Nil means time.Now; tests set it to get stable output.
	Now func() time.Time

	// Memory is the run's memory budget; nil means none. Built-ins that
	// allocate in proportion to an argument ask it first (Reserve).
	Memory *Budget
}

// Context returns the run's context, never nil.
func (rt *Runtime) Context() context.Context {
	if rt == nil || rt.Ctx == nil {
		return context.Background()
	}
	return rt.Ctx
}

// noCancel is shared so that CallContext without a timeout allocates nothing.
func noCancel() {}

// CallContext derives the context for one call: the run's context bounded by
// CallTimeout when that is set. The caller must call the returned cancel
// function when the call is done.
func (rt *Runtime) CallContext() (context.Context, context.CancelFunc) {
	ctx := rt.Context()
	if rt == nil || rt.CallTimeout <= 0 {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, rt.CallTimeout)
}

// LookupEnv returns an environment variable as the run is allowed to see it:
// through Getenv when set, from the process when not sandboxed, and never
// from the process under Sandbox.
func (rt *Runtime) LookupEnv(name string) (string, bool) {
	if rt == nil {
		return os.LookupEnv(name)
	}
	if rt.Getenv != nil {
		return rt.Getenv(name)
	}
	if rt.Sandbox {
		return "", false
	}
	return os.LookupEnv(name)
}

// StdoutWriter returns Stdout, or io.Discard when it is nil.
func (rt *Runtime) StdoutWriter() io.Writer {
	if rt == nil || rt.Stdout == nil {
		return io.Discard
	}
	return rt.Stdout
}

// StderrWriter returns Stderr, or io.Discard when it is nil.
func (rt *Runtime) StderrWriter() io.Writer {
	if rt == nil || rt.Stderr == nil {
		return io.Discard
	}
	return rt.Stderr
}

// TimeNow returns the current time through the Now hook.
func (rt *Runtime) TimeNow() time.Time {
	if rt == nil || rt.Now == nil {
		return time.Now()
	}
	return rt.Now()
}

// Reserve is called by a built-in before it allocates n bytes in one go:
// when that would take the run over its memory budget, the run is stopped
// and a memory_limit error object is raised for op. what names the request
// in the message ("a string of 2^40 bytes"). Without a budget it does
// nothing: the caller still bounds n by what the process can address.
func (rt *Runtime) Reserve(L *lua.LState, op string, n int64, what string) {
	if rt == nil || rt.Memory == nil {
		return
	}
	if err := rt.Memory.Reserve(n, op, what); err != nil {
		Raise(L, &Error{Code: CodeMemoryLimit, Op: op, Message: err.(*MemoryError).Message(), Cause: err})
	}
}

// CheckEvery is how many items (or, for byte-wise work, KiB) a long
// built-in handles between two looks at the run's context: a look costs
// a few nanoseconds, and a thousand items take well under a millisecond.
const CheckEvery = 1024

// Check raises the error of a run that is over (script_timeout, canceled
// or memory_limit) for op, and returns when the run may go on. Long
// built-ins call it every CheckEvery items: the VM only looks at the
// context between instructions.
func (rt *Runtime) Check(L *lua.LState, op string) {
	ctx := rt.Context()
	if err := ctx.Err(); err != nil {
		Raise(L, rt.NewError(op, "", err))
	}
}
