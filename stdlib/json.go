package stdlib

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

var jsonEncodeOptions = luart.NewOptionSet("indent", "sort_keys")

// maxIndent bounds a numeric indent: beyond it output is unreadable, and a
// huge value is a mistake.
const maxIndent = 16

// JSON is the json module:
//
//	json.encode(v [, {indent = n | "text", sort_keys = bool}]) -> string
//	json.decode(s) -> value
//	json.null      the null sentinel
//	json.array([t]) -> t, marked as an array (a new empty one without t)
//
// indent is a number of spaces or the whitespace of one level; without it
// the output is compact. sort_keys defaults to true. The package doc lists
// how Lua values map to JSON. Encoding failures and syntax errors raise
// invalid_argument; a syntax error names its line, column and byte offset.
func JSON(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		m := moduleTable(L, map[string]lua.LGFunction{
			"encode": func(L *lua.LState) int { return jsonEncode(rt, L) },
			"decode": func(L *lua.LState) int { return jsonDecode(rt, L) },
			"array":  arrayFunc("json.array"),
		})
		m.RawSetString("null", luart.Null(L))
		return m
	})
}

func jsonEncode(rt *luart.Runtime, L *lua.LState) int {
	a := luart.Args{L: L, Fn: "json.encode"}
	v := a.Any(1, "value")
	o := a.Options(2, "opts", jsonEncodeOptions)
	indent := indentOption(&o)
	out, err := encodeJSON(L.Context(), v, indent, o.Bool("sort_keys", true))
	if err != nil {
		raiseIfEnded(rt, L, "json.encode")
		luart.Raise(L, &luart.Error{Code: luart.CodeInvalidArgument, Op: "json.encode", Message: err.Error(), Cause: err})
	}
	L.Push(lua.LString(out))
	return 1
}

// indentOption reads opts.indent: a count of spaces or whitespace text.
func indentOption(o *luart.Options) string {
	switch v := o.Value("indent").(type) {
	case *lua.LNilType:
		return ""
	case lua.LNumber:
		n := o.Int("indent", 0)
		if n < 0 || n > maxIndent {
			o.Fail("indent", "indent must be 0 to %d spaces, got %d", maxIndent, n)
		}
		return strings.Repeat(" ", int(n))
	case lua.LString:
		if strings.Trim(string(v), " \t") != "" {
			o.Fail("indent", "indent must be spaces or tabs, got %q", string(v))
		}
		return string(v)
	default:
		o.Fail("indent", "number or string expected, got %s", v.Type().String())
	}
	return ""
}

func jsonDecode(rt *luart.Runtime, L *lua.LState) int {
	a := luart.Args{L: L, Fn: "json.decode"}
	s := a.String(1, "s")
	v, err := DecodeJSON(L, s)
	if err != nil {
		raiseIfEnded(rt, L, "json.decode")
		luart.Raise(L, &luart.Error{Code: luart.CodeInvalidArgument, Op: "json.decode", Message: err.Error(), Cause: err})
	}
	L.Push(v)
	return 1
}

// raiseIfEnded raises the run's timeout or interrupt error for op when L's
// context has ended: the encoders and decoders stop early then, and their
// error is the run's end, not a problem of the data.
func raiseIfEnded(rt *luart.Runtime, L *lua.LState, op string) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		rt.RaiseEnded(L, op, ctx)
	}
}

// arrayFunc is json.array and yaml.array: it marks its table (or a new
// one) as an array and returns it.
func arrayFunc(fn string) lua.LGFunction {
	return func(L *lua.LState) int {
		a := luart.Args{L: L, Fn: fn}
		t := a.OptTable(1, "t")
		if t == nil {
			L.Push(luart.NewArray(L, 0))
			return 1
		}
		if !luart.MarkArray(L, t) {
			a.Fail(1, "t", "table has a metatable of its own; set its field %s = \"array\" instead", luart.ArrayTypeField)
		}
		L.Push(t)
		return 1
	}
}
