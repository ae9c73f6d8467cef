package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// outcome turns the end of a run into its ScriptError, nil for a run that
// finished normally (or called os.exit(0)). The order of the checks is the
// order of precedence: os.exit, then the run's context (a timeout shows up
// as whatever error the interrupted code raised), then the error itself.
func (r *run) outcome(L *lua.LState, err error) *ScriptError {
	if r.exited {
		if r.exitCode == 0 {
			return nil
		}
		return &ScriptError{Kind: KindExit, Message: "exit status " + strconv.Itoa(r.exitCode), ExitCode: r.exitCode}
	}
	if err == nil {
		return nil
	}
	se := r.describe(L, err)
	if cerr := r.runCtx.Err(); cerr != nil {
		se.cause = cerr
		if cause := context.Cause(r.runCtx); errors.Is(cause, luart.ErrMemoryLimit) {
			if se.Code != luart.CodeMemoryLimit {
				// Not the error object of the built-in that refused,
				// which names itself: what the VM raised on the stop.
				se.Message = cause.Error()
			}
			se.Kind, se.ExitCode, se.Code, se.cause = KindMemory, ExitMemory, luart.CodeMemoryLimit, cause
		} else if errors.Is(cerr, context.DeadlineExceeded) {
			se.Kind, se.ExitCode, se.Code = KindTimeout, ExitTimeout, luart.CodeScriptTimeout
			se.Message = "script timeout"
			if t := r.e.cfg.Timeout; t > 0 {
				se.Message += " (" + t.String() + ")"
			}
		} else {
			se.Kind, se.ExitCode, se.Code = KindCanceled, ExitInterrupted, luart.CodeCanceled
			se.Message = "canceled"
		}
		return se
	}
	return se
}

// describe reads an error out of a protected call: its message, position,
// traceback and, for an error object, code and cause.
func (r *run) describe(L *lua.LState, err error) *ScriptError {
	se := &ScriptError{Kind: KindRuntime, ExitCode: ExitError, cause: err}
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		// An error of the event loop itself, or of the conversion of the
		// results, not of Lua code.
		se.Message = err.Error()
		var le *luart.Error
		switch {
		case errors.As(err, &le):
			se.Code = le.Code
		case errors.Is(err, ErrValueTooDeep):
			se.Code = luart.CodeInvalidArgument
		default:
			se.Code = luart.CodeInternal
		}
		return se
	}
	se.Traceback = ae.StackTrace
	positioned := false
	if le, ok := luart.FromValue(ae.Object); ok {
		se.Message, se.Code, se.cause = le.Error(), le.Code, le
		se.File, se.Line, _, positioned = splitPos(le.Where)
		if isEtcdError(le) {
			se.Kind = KindEtcd
		}
		if isConnectFailure(le) {
			se.ExitCode = ExitConnect
		}
	} else if s, ok := ae.Object.(lua.LString); ok {
		se.File, se.Line, se.Message, positioned = splitPos(string(s))
		if hint := luart.NilHint(L, string(s)); hint != "" {
			// Indexing the nil an etcd call returned: name the call.
			se.Message += " " + hint
		}
		if se.Message == luart.NotCallable && positioned {
			// Name what was called: most often a misspelt function.
			globals, _ := L.Get(lua.GlobalsIndex).(*lua.LTable)
			// Only a name compiled from one source is certain to be the
			// chunk that ran (a host may run an edited file again).
			if protos := r.e.chunks.byName(se.File); len(protos) == 1 {
				if hint := luart.CallHint(protos, se.Line, globals); hint != "" {
					se.Message += " (" + hint + ")"
				}
			}
		}
	} else {
		se.Message = formatValue(L, ae.Object)
	}
	if ae.Type == lua.ApiErrorPanic {
		// A bug of ours, not of the script: one line and the code for
		// the user, the Go stack kept apart for a developer.
		se.Code = luart.CodeInternal
		se.Message = "internal error in a Go function: " + firstLine(se.Message)
		se.GoStack, se.Traceback = splitGoStack(ae.StackTrace)
	}
	if !positioned {
		se.File, se.Line, _ = tracebackPos(ae.StackTrace)
	}
	return se
}

// isEtcdError reports whether an error object is the failure of an etcd
// call: raised by a function of the etcd module, or caused by an error of
// the server or of the connection.
func isEtcdError(le *luart.Error) bool {
	var ee rpctypes.EtcdError
	return strings.HasPrefix(le.Op, "etcd") || errors.As(le.Cause, &ee) || isConnectFailure(le)
}

// isConnectFailure reports whether an error object says that no etcd
// endpoint could be reached: a client ConnectError, or a failed
// Config.Connect.
func isConnectFailure(le *luart.Error) bool {
	var ce *client.ConnectError
	var fe *connectError
	return errors.As(le.Cause, &ce) || errors.As(le.Cause, &fe)
}

// syntaxError makes the ScriptError of a chunk that does not compile.
func syntaxError(err error) *ScriptError {
	se := &ScriptError{Kind: KindSyntax, ExitCode: ExitSyntax, Message: strings.TrimSpace(err.Error()), cause: err}
	cause := err
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil {
		// ApiError has no Unwrap: its Cause is the parser's error.
		cause = ae.Cause
	}
	var pe *parse.Error
	var ce *lua.CompileError
	switch {
	case errors.As(cause, &pe):
		se.File, se.Line = pe.Pos.Source, pe.Pos.Line
		se.Message = strings.TrimSpace(pe.Message)
		if pe.Pos.Line == parse.EOF {
			se.Line = 0
			se.Message += " at end of file"
		} else if pe.Token != "" {
			se.Message += " near '" + pe.Token + "'"
		}
	case errors.As(cause, &ce):
		se.Line, se.Message = ce.Line, ce.Message
		// CompileError does not export its chunk name; its text does, as
		// "compile error near line(N) NAME: ...".
		if _, rest, ok := strings.Cut(ce.Error(), ") "); ok {
			se.File, _, _ = strings.Cut(rest, ": ")
		}
	}
	return se
}

// formatValue renders an error value that is not a string for a human: its
// __tostring when it has one, a table's contents, a userdata's Go value.
func formatValue(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case *lua.LTable, *lua.LUserData:
		if s, ok := callToString(L, v); ok {
			return s
		}
		if t, ok := x.(*lua.LTable); ok {
			return dumpTable(t)
		}
		ud := x.(*lua.LUserData)
		switch val := ud.Value.(type) {
		case error:
			return val.Error()
		case fmt.Stringer:
			return val.String()
		case nil:
			return "userdata"
		default:
			return fmt.Sprintf("userdata (%T): %v", val, val)
		}
	case *lua.LNilType:
		return "nil"
	}
	return v.String()
}

// callToString calls v's __tostring in protected mode, on a fresh short
// deadline: the run's own context may be over, and a script's metamethod
// must not hang or crash the host.
func callToString(L *lua.LState, v lua.LValue) (string, bool) {
	fn, ok := L.GetMetaField(v, "__tostring").(*lua.LFunction)
	if !ok {
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), formatTimeout)
	defer cancel()
	old := L.RemoveContext()
	L.SetContext(ctx)
	defer func() {
		if old != nil {
			L.SetContext(old)
		} else {
			L.RemoveContext()
		}
	}()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, v); err != nil {
		return "", false
	}
	s := L.Get(-1)
	L.Pop(1)
	if str, ok := s.(lua.LString); ok {
		return string(str), true
	}
	return "", false
}

// dumpOptions render a table in an error message: it is for reading, not
// a data dump. An error object inside shows as its quoted message.
var dumpOptions = luart.RenderOptions{Depth: 3, Items: 20, Other: func(v lua.LValue) string {
	if le, ok := luart.FromValue(v); ok {
		return strconv.Quote(le.Error())
	}
	return v.String()
}}

// dumpTable writes t as a Lua constructor with sorted keys.
func dumpTable(t *lua.LTable) string { return luart.Render(t, dumpOptions) }

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// splitGoStack splits the traceback gopher-lua records for a Go panic into
// the Go stack it starts with and the Lua traceback after it.
func splitGoStack(tb string) (goStack, luaTrace string) {
	i := strings.Index(tb, "stack traceback:")
	if i < 0 {
		if strings.HasPrefix(tb, "goroutine ") {
			return tb, ""
		}
		return "", tb
	}
	return strings.TrimSpace(tb[:i]), tb[i:]
}
