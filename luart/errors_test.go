package luart_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  luart.Error
		want string
	}{
		{"op message key", luart.Error{Op: "etcd.put", Message: "deadline exceeded", Key: "a/b"}, `etcd.put: deadline exceeded (key "a/b")`},
		{"no key", luart.Error{Op: "etcd.txn", Message: "too many operations"}, `etcd.txn: too many operations`},
		{"no op", luart.Error{Message: "boom"}, `boom`},
		{"binary key quoted", luart.Error{Op: "etcd.get", Message: "x", Key: "a\x00\xff"}, `etcd.get: x (key "a\x00\xff")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewErrorClassify(t *testing.T) {
	cause := errors.New("etcdserver: mvcc: required revision has been compacted")
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()

	tests := []struct {
		name      string
		rt        *luart.Runtime
		err       error
		code      string
		message   string
		retryable bool
	}{
		{"nil hook canceled", &luart.Runtime{}, context.Canceled, luart.CodeCanceled, "canceled", false},
		{"nil hook deadline", &luart.Runtime{}, context.DeadlineExceeded, luart.CodeDeadlineExceeded, "deadline exceeded", true},
		{"nil hook wrapped deadline", &luart.Runtime{}, fmt.Errorf("put: %w", context.DeadlineExceeded), luart.CodeDeadlineExceeded, "put: context deadline exceeded", true},
		{"nil hook other", &luart.Runtime{}, cause, luart.CodeInternal, cause.Error(), false},
		{"nil runtime", nil, context.Canceled, luart.CodeCanceled, "canceled", false},
		{"hook", &luart.Runtime{Classify: func(error) (string, bool) { return luart.CodeCompacted, false }}, cause, luart.CodeCompacted, cause.Error(), false},
		{"hook empty code", &luart.Runtime{Classify: func(error) (string, bool) { return "", true }}, cause, luart.CodeInternal, cause.Error(), true},
		{"run timed out", &luart.Runtime{Ctx: expired}, context.DeadlineExceeded, luart.CodeScriptTimeout, "script timeout", false},
		{"run canceled", &luart.Runtime{Ctx: canceled}, context.DeadlineExceeded, luart.CodeCanceled, "canceled", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.rt.NewError("etcd.put", "k", tt.err)
			if e.Code != tt.code || e.Message != tt.message || e.Retryable != tt.retryable {
				t.Errorf("got code=%q message=%q retryable=%v, want %q %q %v", e.Code, e.Message, e.Retryable, tt.code, tt.message, tt.retryable)
			}
			if e.Op != "etcd.put" || e.Key != "k" {
				t.Errorf("op/key = %q/%q", e.Op, e.Key)
			}
			if !errors.Is(e, tt.err) {
				t.Errorf("errors.Is(e, cause) = false")
			}
		})
	}
}

func TestNewErrorKeepsErrorObject(t *testing.T) {
	orig := &luart.Error{Code: luart.CodeCompacted, Op: "etcd.watch", Message: "compacted"}
	rt := &luart.Runtime{}
	if got := rt.NewError("etcd.wait", "", fmt.Errorf("wrapped: %w", orig)); got != orig {
		t.Fatalf("NewError did not keep the error object: %#v", got)
	}
	if rt.NewError("x", "", nil) != nil {
		t.Fatal("NewError(nil) != nil")
	}
}

// raiser is a Go function that raises the error object given by its Go
// closure, as a binding would.
func raiser(e *luart.Error) lua.LGFunction {
	return func(L *lua.LState) int {
		luart.Raise(L, e)
		return 0
	}
}

func TestErrorThroughPcall(t *testing.T) {
	L := newState(t)
	L.SetGlobal("fail", L.NewFunction(raiser(&luart.Error{Code: luart.CodeDeadlineExceeded, Op: "etcd.put", Key: "a/b", Message: "deadline exceeded", Retryable: true})))
	L.SetGlobal("fail2", L.NewFunction(raiser(&luart.Error{Code: luart.CodeDeadlineExceeded, Op: "etcd.put", Key: "a/b", Message: "deadline exceeded"})))
	L.SetGlobal("other", L.NewFunction(raiser(&luart.Error{Code: luart.CodeInternal, Op: "etcd.get", Message: "x"})))
	L.SetGlobal("errors", luart.ErrorsTable(L))
	run(t, L, `
		local ok, e = pcall(fail)
		assert(ok == false)
		assert(e.code == "deadline_exceeded", tostring(e.code))
		assert(e.message == "deadline exceeded")
		assert(e.op == "etcd.put")
		assert(e.key == "a/b")
		assert(e.retryable == true)
		assert(e.nothing == nil)
		assert(tostring(e) == 'etcd.put: deadline exceeded (key "a/b")', tostring(e))
		assert(e.code == errors.DEADLINE_EXCEEDED)
		assert(errors.COMPACTED == "compacted")
		assert(errors.SCRIPT_TIMEOUT == "script_timeout")
		local _, e2 = pcall(fail2)
		assert(e == e2, "same code/message/op/key compare equal")
		local _, e3 = pcall(other)
		assert(e ~= e3)
		assert(e ~= "etcd.put: deadline exceeded (key \"a/b\")")
		assert("x: " .. e3 == "x: etcd.get: x")
		assert(e3 .. "!" == "etcd.get: x!")
		assert(e3.key == nil, "no key reads as nil")
		assert(type(e) == "userdata")
		-- error() from Lua keeps the value too
		local ok2, e4 = pcall(function() error(e3) end)
		assert(rawequal(e4, e3))
	`)
}

func TestRaiseRecordsWhere(t *testing.T) {
	L := newState(t)
	e := &luart.Error{Code: luart.CodeInternal, Message: "x"}
	L.SetGlobal("fail", L.NewFunction(raiser(e)))
	err := L.DoString("local a = 1\nfail()\n")
	if err == nil {
		t.Fatal("no error")
	}
	got, ok := luart.FromError(err)
	if !ok || got != e {
		t.Fatalf("FromError = %v, %v", got, ok)
	}
	if got.Where != "<string>:2:" {
		t.Errorf("Where = %q, want <string>:2:", got.Where)
	}
}

func TestFromValue(t *testing.T) {
	L := newState(t)
	e := &luart.Error{Code: luart.CodeCompacted}
	if got, ok := luart.FromValue(luart.ErrorValue(L, e)); !ok || got != e {
		t.Errorf("FromValue(ErrorValue(e)) = %v, %v", got, ok)
	}
	for _, v := range []lua.LValue{lua.LNil, lua.LString("x"), L.NewTable(), L.NewUserData()} {
		if _, ok := luart.FromValue(v); ok {
			t.Errorf("FromValue(%v) = ok", v)
		}
	}
	if _, ok := luart.FromError(errors.New("plain")); ok {
		t.Error("FromError(plain) = ok")
	}
}

func TestRaiseErrKeepsLuaValue(t *testing.T) {
	L := newState(t)
	rt := &luart.Runtime{}
	L.SetGlobal("rethrow", L.NewFunction(func(L *lua.LState) int {
		err := L.CallByParam(lua.P{Fn: L.CheckFunction(1), Protect: true})
		rt.RaiseErr(L, "time.sleep", err)
		return 0
	}))
	L.SetGlobal("rethrow_go", L.NewFunction(func(L *lua.LState) int {
		rt.RaiseErr(L, "time.sleep", context.Canceled)
		return 0
	}))
	run(t, L, `
		local t = {}
		local ok, e = pcall(rethrow, function() error(t) end)
		assert(not ok and rawequal(e, t), "table error value kept")
		local ok, e = pcall(rethrow, function() error("plain", 0) end)
		assert(e == "plain", e)
		local ok, e = pcall(rethrow_go)
		assert(e.code == "canceled" and e.op == "time.sleep")
	`)
}

func TestIsRetryable(t *testing.T) {
	L := newState(t)
	tbl := L.NewTable()
	tbl.RawSetString("retryable", lua.LTrue)
	tests := []struct {
		v    lua.LValue
		want bool
	}{
		{luart.ErrorValue(L, &luart.Error{Retryable: true}), true},
		{luart.ErrorValue(L, &luart.Error{}), false},
		{tbl, true},
		{L.NewTable(), false},
		{lua.LString("x"), false},
	}
	for i, tt := range tests {
		if got := luart.IsRetryable(tt.v); got != tt.want {
			t.Errorf("%d: IsRetryable = %v", i, got)
		}
	}
}

func TestCodes(t *testing.T) {
	codes := luart.Codes()
	if len(codes) != 21 {
		t.Fatalf("%d codes, docs/lua.md lists 21", len(codes))
	}
	for _, c := range codes {
		if !luart.IsCode(c) {
			t.Errorf("IsCode(%q) = false", c)
		}
	}
	if luart.IsCode("nope") {
		t.Error(`IsCode("nope")`)
	}
}

// TestIOErrorCode: file-system errors classify as io_error, not internal.
func TestIOErrorCode(t *testing.T) {
	rt := &luart.Runtime{}
	_, err := os.Open("/nonexistent/etcdscript")
	if e := rt.NewError("fs.read", "", err); e.Code != luart.CodeIOError {
		t.Errorf("code %q, want io_error", e.Code)
	}
	if e := rt.NewError("x", "", errors.New("other")); e.Code != luart.CodeInternal {
		t.Errorf("code %q, want internal", e.Code)
	}
	if e := rt.NewError("x", "", &luart.MemoryError{Budget: 1, What: "it"}); e.Code != luart.CodeMemoryLimit {
		t.Errorf("code %q, want memory_limit", e.Code)
	}
}
