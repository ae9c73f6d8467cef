package stdlib

import (
	"math/rand/v2"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

var retryOptions = luart.NewOptionSet("attempts", "base", "max", "on_retry")

// Retry is the retry module, a function to call as require("retry")(fn, opts)
// or require("retry").retry(fn, opts):
//
//	retry(fn [, {attempts = 5, base = 0.1, max = 5, on_retry = function(err, attempt, delay)}]) -> fn's results
//
// It calls fn. When fn raises an error whose retryable field is true (an
// error object from a failed call that may succeed when repeated, or a
// table the script raised with retryable = true), it waits and calls fn
// again, up to attempts calls in all. The wait before try n+1 is base * 2^(n-1)
// seconds, capped at max, of which a random half is taken off (jitter), so
// that many clients retrying together spread out. Callbacks are dispatched
// while it waits. Errors that are not retryable, and the error of the last
// attempt, are raised again unchanged. on_retry, when given, is called
// before each wait with the error, the number of the attempt that failed
// and the wait in seconds.
func Retry(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		m := moduleTable(L, map[string]lua.LGFunction{
			"retry": func(L *lua.LState) int { return retryCall(rt, L, 0) },
		})
		mt := L.CreateTable(0, 1)
		// Called as retry(fn, opts), the module table is argument 1.
		mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int { return retryCall(rt, L, 1) }))
		L.SetMetatable(m, mt)
		return m
	})
}

func retryCall(rt *luart.Runtime, L *lua.LState, offset int) int {
	a := luart.Args{L: L, Fn: "retry", Offset: offset}
	fn := a.Function(1+offset, "fn")
	o := a.Options(2+offset, "opts", retryOptions)
	attempts := o.Int("attempts", 5)
	if attempts < 1 {
		o.Fail("attempts", "attempts must be at least 1, got %d", attempts)
	}
	base := o.Duration("base", 100*time.Millisecond)
	maxDelay := o.Duration("max", 5*time.Second)
	onRetry := o.Function("on_retry")

	top := L.GetTop()
	for attempt := int64(1); ; attempt++ {
		L.Push(fn)
		err := luart.PCall(L, 0, lua.MultRet)
		if err == nil {
			return L.GetTop() - top
		}
		ae, ok := err.(*lua.ApiError)
		if !ok {
			rt.RaiseErr(L, "retry", err)
		}
		if attempt >= attempts || !luart.IsRetryable(ae.Object) || rt.Context().Err() != nil {
			L.Error(ae.Object, 0)
		}
		// The error is swallowed: it must not leave a nil hint behind.
		luart.ForgetNil(L)
		delay := backoff(base, maxDelay, attempt)
		if onRetry != nil {
			L.Push(onRetry)
			L.Push(ae.Object)
			L.Push(lua.LNumber(attempt))
			L.Push(lua.LNumber(delay.Seconds()))
			L.Call(3, 0)
		}
		if err := wait(rt, L, delay); err != nil {
			rt.RaiseErr(L, "retry", err)
		}
	}
}

// backoff is the wait after the given failed attempt: exponential from base,
// capped at maxDelay, with up to half taken off at random.
func backoff(base, maxDelay time.Duration, attempt int64) time.Duration {
	d := base
	for i := int64(1); i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	if half := int64(d / 2); half > 0 {
		d -= time.Duration(rand.Int64N(half + 1))
	}
	return d
}
