package luart_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// checkFuncs are Go functions, one per check, that return what the check
// returned, printed, so the table below can compare strings.
func checkFuncs(L *lua.LState) {
	set := luart.NewOptionSet("prefix", "limit", "rev", "lease", "timeout", "sort", "on_error", "label", "ratio")
	reg := map[string]func(a luart.Args) any{
		"str":     func(a luart.Args) any { return a.String(1, "key") },
		"optstr":  func(a luart.Args) any { return a.OptString(1, "key", "def") },
		"key":     func(a luart.Args) any { return a.Key(1, "key") },
		"num":     func(a luart.Args) any { return a.Number(1, "n") },
		"optnum":  func(a luart.Args) any { return a.OptNumber(1, "n", 1.5) },
		"int":     func(a luart.Args) any { return a.Int(1, "n") },
		"optint":  func(a luart.Args) any { return a.OptInt(1, "n", 7) },
		"rev":     func(a luart.Args) any { return a.Revision(1, "rev") },
		"bool":    func(a luart.Args) any { return a.Bool(1, "flag") },
		"optbool": func(a luart.Args) any { return a.OptBool(1, "flag", true) },
		"tbl":     func(a luart.Args) any { return a.Table(1, "t") != nil },
		"opttbl":  func(a luart.Args) any { return a.OptTable(1, "t") != nil },
		"fn":      func(a luart.Args) any { return a.Function(1, "fn") != nil },
		"optfn":   func(a luart.Args) any { return a.OptFunction(1, "fn") != nil },
		"any":     func(a luart.Args) any { return a.Any(1, "v").Type().String() },
		"dur":     func(a luart.Args) any { return a.Duration(1, "timeout") },
		"optdur":  func(a luart.Args) any { return a.OptDuration(1, "timeout", time.Second) },
		"second":  func(a luart.Args) any { return a.String(2, "value") },
		"method":  func(a luart.Args) any { a.Offset = 1; return a.String(2, "name") },
		"opts": func(a luart.Args) any {
			o := a.Options(1, "opts", set)
			return strings.TrimSpace(fmt.Sprintln(o.Bool("prefix", false), o.Int("limit", 0), o.Revision("rev"), o.String("lease", "-"),
				o.Duration("timeout", 0), o.Table("sort") != nil, o.Function("on_error") != nil, o.IsSet("label"), o.Number("ratio", 0.5)))
		},
	}
	for name, check := range reg {
		L.SetGlobal(name, L.NewFunction(func(L *lua.LState) int {
			v := check(luart.Args{L: L, Fn: "t." + name})
			L.Push(lua.LString(fmt.Sprint(v)))
			return 1
		}))
	}
}

func TestArgs(t *testing.T) {
	L := newState(t)
	checkFuncs(L)
	tests := []struct {
		call string
		want string // result, or "!code: message" for an error
	}{
		{`str("a")`, "a"},
		{`str(12)`, "12"},
		{`str(1.5)`, "1.5"},
		{`str({})`, "!invalid_argument: t.str: bad argument #1 (key): string expected, got table"},
		{`str()`, "!invalid_argument: t.str: bad argument #1 (key): string expected, got no value"},
		{`str(nil)`, "!invalid_argument: t.str: bad argument #1 (key): string expected, got nil"},
		{`optstr()`, "def"},
		{`optstr(nil)`, "def"},
		{`optstr("x")`, "x"},
		{`optstr(true)`, "!invalid_argument: t.optstr: bad argument #1 (key): string expected, got boolean"},
		{`key("k")`, "k"},
		{`key("")`, "!empty_key: t.key: bad argument #1 (key): key is empty"},
		{`num(2.5)`, "2.5"},
		{`num("2")`, "!invalid_argument: t.num: bad argument #1 (n): number expected, got string"},
		{`optnum()`, "1.5"},
		{`int(42)`, "42"},
		{`int(-3)`, "-3"},
		{`int(2^53)`, "9007199254740992"},
		{`int(2^53 + 2)`, "!invalid_argument: t.int: bad argument #1 (n): integer 9.007199254740994e+15 is beyond 2^53 and cannot be exact: refused, not rounded"},
		{`int(1.5)`, "!invalid_argument: t.int: bad argument #1 (n): integer expected, got 1.5"},
		{`int(0/0)`, "!invalid_argument: t.int: bad argument #1 (n): integer expected, got NaN"},
		{`int(1/0)`, "!invalid_argument: t.int: bad argument #1 (n): integer expected, got +Inf"},
		{`int("1")`, "!invalid_argument: t.int: bad argument #1 (n): integer expected, got string"},
		{`optint()`, "7"},
		{`rev(0)`, "0"},
		{`rev(-1)`, "!invalid_argument: t.rev: bad argument #1 (rev): revision must not be negative, got -1"},
		{`bool(false)`, "false"},
		{`bool(0)`, "!invalid_argument: t.bool: bad argument #1 (flag): boolean expected, got number"},
		{`optbool()`, "true"},
		{`optbool(false)`, "false"},
		{`tbl({})`, "true"},
		{`tbl("x")`, "!invalid_argument: t.tbl: bad argument #1 (t): table expected, got string"},
		{`opttbl()`, "false"},
		{`fn(print)`, "true"},
		{`fn({})`, "!invalid_argument: t.fn: bad argument #1 (fn): function expected, got table"},
		{`optfn(nil)`, "false"},
		{`any(nil)`, "nil"},
		{`any()`, "!invalid_argument: t.any: bad argument #1 (v): value expected, got no value"},
		{`dur(1.5)`, "1.5s"},
		{`dur(0)`, "0s"},
		{`dur(-1)`, "!invalid_argument: t.dur: bad argument #1 (timeout): duration must not be negative, got -1"},
		{`dur(1/0)`, "!invalid_argument: t.dur: bad argument #1 (timeout): finite number of seconds expected"},
		{`dur(1e12)`, "!invalid_argument: t.dur: bad argument #1 (timeout): duration of 1e+12 seconds is too long"},
		{`dur("1s")`, "!invalid_argument: t.dur: bad argument #1 (timeout): number of seconds expected, got string"},
		{`optdur()`, "1s"},
		{`second("k", {})`, "!invalid_argument: t.second: bad argument #2 (value): string expected, got table"},
		{`method({}, {})`, "!invalid_argument: t.method: bad argument #1 (name): string expected, got table"},
		{`opts()`, "false 0 0 - 0s false false false 0.5"},
		{`opts({prefix = true, limit = 10, rev = 5, lease = "abc", timeout = 0.25, sort = {}, on_error = print, label = 1, ratio = 2})`, "true 10 5 abc 250ms true true true 2"},
		{`opts({lease = 12})`, "false 0 0 12 0s false false false 0.5"},
		{`opts({prefx = true})`, `!invalid_argument: t.opts: bad argument #1 (opts): unknown option "prefx" (did you mean "prefix"?)`},
		{`opts({zzzzzz = true})`, `!invalid_argument: t.opts: bad argument #1 (opts): unknown option "zzzzzz"`},
		{`opts({1})`, `!invalid_argument: t.opts: bad argument #1 (opts): option names are strings, got a number key`},
		{`opts("x")`, `!invalid_argument: t.opts: bad argument #1 (opts): table expected, got string`},
		{`opts({limit = "10"})`, `!invalid_argument: t.opts: bad argument #1 (opts.limit): integer expected, got string`},
		{`opts({limit = 1.5})`, `!invalid_argument: t.opts: bad argument #1 (opts.limit): integer expected, got 1.5`},
		{`opts({rev = -2})`, `!invalid_argument: t.opts: bad argument #1 (opts.rev): revision must not be negative, got -2`},
		{`opts({prefix = 1})`, `!invalid_argument: t.opts: bad argument #1 (opts.prefix): boolean expected, got number`},
		{`opts({lease = {}})`, `!invalid_argument: t.opts: bad argument #1 (opts.lease): string expected, got table`},
		{`opts({timeout = -1})`, `!invalid_argument: t.opts: bad argument #1 (opts.timeout): duration must not be negative, got -1`},
		{`opts({timeout = "1"})`, `!invalid_argument: t.opts: bad argument #1 (opts.timeout): number of seconds expected, got string`},
		{`opts({sort = 1})`, `!invalid_argument: t.opts: bad argument #1 (opts.sort): table expected, got number`},
		{`opts({on_error = 1})`, `!invalid_argument: t.opts: bad argument #1 (opts.on_error): function expected, got number`},
		{`opts({ratio = "x"})`, `!invalid_argument: t.opts: bad argument #1 (opts.ratio): number expected, got string`},
	}
	L.SetGlobal("describe", L.NewFunction(func(L *lua.LState) int {
		e, ok := luart.FromValue(L.Get(1))
		if !ok {
			L.Push(lua.LString("not an error object: " + L.Get(1).String()))
			return 1
		}
		L.Push(lua.LString("!" + e.Code + ": " + e.Error()))
		return 1
	}))
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			run(t, L, `
				local ok, r = pcall(function() return `+tt.call+` end)
				if not ok then r = describe(r) end
				got = r`)
			if got := L.GetGlobal("got").String(); got != tt.want {
				t.Errorf("%s\n got: %s\nwant: %s", tt.call, got, tt.want)
			}
		})
	}
}

func TestArgErrorMessage(t *testing.T) {
	L := newState(t)
	L.SetGlobal("f", L.NewFunction(func(L *lua.LState) int {
		luart.ArgError(L, "etcd.put", "#2 (value)", "string expected, got %s", "table")
		return 0
	}))
	run(t, L, `
		local ok, e = pcall(f)
		assert(e.code == "invalid_argument")
		assert(e.op == "etcd.put")
		assert(tostring(e) == "etcd.put: bad argument #2 (value): string expected, got table", tostring(e))
	`)
}

func TestOptionSet(t *testing.T) {
	s := luart.NewOptionSet("a", "b")
	if !s.Has("a") || s.Has("c") {
		t.Error("Has")
	}
	names := s.Names()
	names[0] = "z"
	if !s.Has("a") {
		t.Error("Names shares the set's storage")
	}
}
