package luart

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// Error is the error object a failing call raises in Lua. Scripts read its
// fields (err.code, err.message, err.op, err.key, err.retryable); Go code
// gets it back from a Lua error with FromValue or FromError.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Message is the human sentence, without the op and key.
	Message string
	// Op is the function that failed, such as "etcd.put".
	Op string
	// Key is the key involved, or "" when there is none.
	Key string
	// Retryable reports whether repeating the same call may succeed.
	Retryable bool
	// Cause is the Go error the object was made from, if any.
	Cause error
	// Where is the "file:line:" of the Lua code that called the failing
	// function, filled in by Raise; the engine prints it for uncaught errors.
	Where string
}

// Error formats the error the way tostring(err) shows it in Lua:
// `etcd.put: deadline exceeded (key "a/b")`.
func (e *Error) Error() string {
	n := len(e.Op) + len(e.Message) + 2
	if e.Key != "" {
		n += len(e.Key) + 10
	}
	b := make([]byte, 0, n)
	if e.Op != "" {
		b = append(b, e.Op...)
		b = append(b, ": "...)
	}
	b = append(b, e.Message...)
	if e.Key != "" {
		b = append(b, " (key "...)
		b = strconv.AppendQuote(b, e.Key)
		b = append(b, ')')
	}
	return string(b)
}

// Unwrap returns the Go error the object was made from.
func (e *Error) Unwrap() error { return e.Cause }

// DefaultClassify is the classification used when Runtime.Classify is nil:
// it knows only the context errors.
func DefaultClassify(err error) (code string, retryable bool) {
	switch {
	case errors.Is(err, context.Canceled):
		return CodeCanceled, false
	case errors.Is(err, context.DeadlineExceeded):
		// A single call that ran out of time may well succeed when repeated.
		return CodeDeadlineExceeded, true
	}
	return CodeInternal, false
}

// NewError turns a Go error into an error object for op and key. An error
// that already is (or wraps) an *Error is returned as it is, so that errors
// pass through layers unchanged. Other errors are classified through the
// Classify hook. When the run's own context has ended, a context error
// becomes canceled or script_timeout and is never retryable: repeating a
// call cannot help a run that is over.
func (rt *Runtime) NewError(op, key string, err error) *Error {
	if err == nil {
		return nil
	}
	var le *Error
	if errors.As(err, &le) {
		return le
	}
	classify := DefaultClassify
	if rt != nil && rt.Classify != nil {
		classify = rt.Classify
	}
	code, retryable := classify(err)
	if code == "" {
		code = CodeInternal
	}
	if code == CodeInternal && isIOError(err) {
		code = CodeIOError
	}
	e := &Error{Code: code, Message: errorMessage(err), Op: op, Key: key, Retryable: retryable, Cause: err}
	if errors.Is(err, ErrMemoryLimit) {
		e.Code, e.Retryable = CodeMemoryLimit, false
	}
	if code == CodeCanceled || code == CodeDeadlineExceeded {
		ctx := rt.Context()
		cause := context.Cause(ctx)
		switch {
		case errors.Is(cause, ErrMemoryLimit):
			e.Code, e.Message, e.Retryable, e.Cause = CodeMemoryLimit, cause.Error(), false, cause
		case ctx.Err() == context.DeadlineExceeded:
			e.Code, e.Message, e.Retryable = CodeScriptTimeout, "script timeout", false
		case ctx.Err() == context.Canceled:
			e.Code, e.Message, e.Retryable = CodeCanceled, "canceled", false
		}
	}
	return e
}

// isIOError reports whether err is a failure of the file system or of a
// stream: those get io_error rather than internal.
func isIOError(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	return errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &se) ||
		errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.ErrShortWrite) || errors.Is(err, os.ErrClosed)
}

// errorMessage words the bare context errors the way docs/lua.md shows them
// ("deadline exceeded"); any other error keeps its own text.
func errorMessage(err error) string {
	switch err {
	case context.DeadlineExceeded:
		return "deadline exceeded"
	case context.Canceled:
		return "canceled"
	}
	return err.Error()
}

// Errorf makes an error object with a formatted message and no cause.
func Errorf(code, op, key, format string, args ...any) *Error {
	return &Error{Code: code, Op: op, Key: key, Message: sprintf(format, args...)}
}

// FromError finds the error object inside a Go error: an *Error itself, or a
// *lua.ApiError (what PCall and DoString return) whose Lua value is one.
func FromError(err error) (*Error, bool) {
	var le *Error
	if errors.As(err, &le) {
		return le, true
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return FromValue(ae.Object)
	}
	return nil, false
}
