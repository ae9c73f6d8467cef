package engine

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Kind says what ended a run with an error.
type Kind string

// The kinds of ScriptError.
const (
	// KindSyntax: the script (or a chunk it loads) does not compile.
	KindSyntax Kind = "syntax"
	// KindRuntime: the script raised an error nothing caught, or a Go
	// function it called panicked.
	KindRuntime Kind = "runtime"
	// KindEtcd: an etcd call failed and nothing caught its error object;
	// Code holds the error code, Unwrap gives the client's error.
	KindEtcd Kind = "etcd"
	// KindTimeout: the run's Timeout, or the deadline of its context,
	// passed.
	KindTimeout Kind = "timeout"
	// KindMemory: the run went over its memory budget (Config.MaxMemory);
	// Code is memory_limit, errors.Is(err, luart.ErrMemoryLimit) holds.
	KindMemory Kind = "memory"
	// KindCanceled: the run's context was canceled.
	KindCanceled Kind = "canceled"
	// KindExit: the script called os.exit with a code other than 0.
	KindExit Kind = "exit"
	// KindIO: the script file could not be read.
	KindIO Kind = "io"
)

// ScriptError is the error of a run that did not finish normally. It
// prints as `FILE:LINE: message`, the way the CLI reports an uncaught
// error; Traceback holds the Lua stack traceback to print after it.
type ScriptError struct {
	// Kind classifies the failure.
	Kind Kind
	// Message is the error without its position: the text of a string
	// error, tostring of an error object (`etcd.put: deadline exceeded
	// (key "a/b")`), or a readable rendering of a table or userdata.
	Message string
	// File and Line locate the error in the script: where it was raised,
	// where an etcd call failed, or where a timeout stopped the script.
	// File is empty and Line 0 when unknown.
	File string
	Line int
	// Traceback is the Lua stack traceback at the error.
	Traceback string
	// GoStack is, for a Go panic in a function the script called, the Go
	// stack of the panic: for a developer (the CLI prints it only with
	// --debug), never for a script's user. Empty otherwise.
	GoStack string
	// Code is the error code of the error object the script raised (an
	// etcd call's failure, an invalid argument), such as "compacted" or
	// "invalid_argument"; empty for other errors.
	Code string
	// ExitCode is the exit code of the run, as in Result.ExitCode.
	ExitCode int

	cause error
}

// Error returns `FILE:LINE: message`, or the message alone when the
// position is unknown.
func (e *ScriptError) Error() string {
	if e.File == "" {
		return e.Message
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Message
}

// Unwrap returns the Go error behind the failure: the context's error
// after a timeout or a cancel (so errors.Is(err, context.DeadlineExceeded)
// holds), the *luart.Error of an etcd call (whose own Unwrap gives the
// client's error, such as rpctypes.ErrCompacted), the read error of the
// script file, or the *lua.ApiError of any other error.
func (e *ScriptError) Unwrap() error { return e.cause }

// Backtrace returns the error followed by its traceback, the report the
// CLI prints for an uncaught error.
func (e *ScriptError) Backtrace() string {
	if e.Traceback == "" {
		return e.Error()
	}
	return e.Error() + "\n" + e.Traceback
}

// AsScriptError finds the *ScriptError in err's chain.
func AsScriptError(err error) (*ScriptError, bool) {
	var se *ScriptError
	ok := errors.As(err, &se)
	return se, ok
}

// posPrefix matches the "file:line: " that gopher-lua puts before a string
// error. The lazy file part lets file names hold colons.
var posPrefix = regexp.MustCompile(`^(.*?):(\d+): ?`)

// splitPos splits "file:line: rest" into its parts.
func splitPos(msg string) (file string, line int, rest string, ok bool) {
	m := posPrefix.FindStringSubmatchIndex(msg)
	if m == nil {
		return "", 0, msg, false
	}
	file = msg[m[2]:m[3]]
	if file == "" || strings.ContainsAny(file, "\n\t") {
		return "", 0, msg, false
	}
	line, err := strconv.Atoi(msg[m[4]:m[5]])
	if err != nil {
		return "", 0, msg, false
	}
	return file, line, msg[m[1]:], true
}

// tracebackPos finds the innermost Lua frame of a gopher-lua traceback,
// whose lines read "\tfile:line: in ...", skipping Go frames ("[G]:").
func tracebackPos(tb string) (file string, line int, ok bool) {
	if i := strings.Index(tb, "stack traceback:"); i >= 0 {
		tb = tb[i+len("stack traceback:"):]
	}
	for _, l := range strings.Split(tb, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "[G]") || strings.HasPrefix(l, "(tailcall)") {
			continue
		}
		if f, n, _, ok := splitPos(l); ok {
			return f, n, true
		}
	}
	return "", 0, false
}
