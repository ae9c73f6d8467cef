package bindings

import (
	"context"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
	lua "github.com/yuin/gopher-lua"
)

// FuzzRangeOptions feeds option tables written as Lua to the option parsing
// of etcd.range and etcd.delete: whatever the table, parsing must either
// give options the client accepts or raise an invalid_argument (or
// empty_key) error object, never panic or raise anything else.
func FuzzRangeOptions(f *testing.F) {
	for _, seed := range []string{
		`{prefix = true}`, `{range_end = "z"}`, `{from_key = true, limit = 3}`,
		`{sort = {target = "mod", order = "desc"}, rev = 7}`, `{prefix = true, range_end = "x"}`,
		`{limit = -1}`, `{rev = 2^60}`, `{min_mod_revision = 1.5}`, `{keys_only = "yes"}`,
		`{prefx = true}`, `{sort = {target = "nope"}}`, `{count_only = true, serializable = true}`,
		`nil`, `{}`, `{[1] = true}`, `setmetatable({}, {__index = function() error("boom") end})`,
	} {
		f.Add("k", seed)
		f.Add("", seed)
	}
	f.Fuzz(func(t *testing.T, key, opts string) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		lua.OpenBase(L)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		L.SetContext(ctx)
		fn, err := L.LoadString("return " + opts)
		if err != nil {
			return // not a Lua expression
		}
		L.Push(fn)
		if err := L.PCall(0, 1, nil); err != nil {
			return // the expression itself failed or ran too long
		}
		tbl := L.Get(-1)
		L.Pop(1)
		for _, parse := range []func(L *lua.LState) int{parseRange, parseDelete} {
			L.Push(L.NewFunction(parse))
			L.Push(lua.LString(key))
			L.Push(tbl)
			err := L.PCall(2, 0, nil)
			if err == nil {
				continue
			}
			ae, ok := err.(*lua.ApiError)
			if !ok {
				t.Fatalf("%q %s: not a Lua error: %v", key, opts, err)
			}
			le, ok := luart.FromValue(ae.Object)
			if !ok {
				if ctx.Err() != nil {
					return // the table's metamethods ran out of time
				}
				// A metamethod of the fuzzed table may raise its own error.
				continue
			}
			if le.Code != luart.CodeInvalidArgument && le.Code != luart.CodeEmptyKey {
				t.Fatalf("%q %s: error code %q (%v), want invalid_argument or empty_key", key, opts, le.Code, le)
			}
		}
	})
}

// parseRange is etcd.range's argument handling up to the client call; the
// options are then checked by the client as a real call would.
func parseRange(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "etcd.range"}
	key := a.String(1, "key")
	o := a.Options(2, "opts", rangeOptions)
	keyArg(a, 1, key, wholeSpace(&o))
	op := client.OpGet(key, rangeOpts(&o, nil)...)
	if err := op.Err(); err != nil {
		a.Fail(2, "opts", "%v", err)
	}
	return 0
}

func parseDelete(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "etcd.delete"}
	key := a.String(1, "key")
	o := a.Options(2, "opts", deleteOptions)
	keyArg(a, 1, key, false)
	op := client.OpDelete(key, deleteOpts(&o, nil)...)
	if err := op.Err(); err != nil {
		a.Fail(2, "opts", "%v", err)
	}
	return 0
}
