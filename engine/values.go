package engine

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// GoValue converts a Lua value to a Go value that encoding/json can write:
//
//   - nil and json.null become nil, booleans bool, strings string;
//   - numbers become int64 when they are integers of at most 2^53 in
//     magnitude, float64 otherwise;
//   - a table marked as an array (json.array, lists from the etcd module)
//     or whose keys are exactly 1..n becomes []any; any other table,
//     the empty one included, becomes map[string]any, number keys written
//     as strings;
//   - an error object becomes a map of its fields code, message, op, key
//     and retryable;
//   - a table met again inside itself becomes the string "<cycle>";
//     functions, coroutines and other userdata become their tostring.
func GoValue(v lua.LValue) any {
	return goValue(v, map[*lua.LTable]bool{})
}

func goValues(vs []lua.LValue) []any {
	if len(vs) == 0 {
		return nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = GoValue(v)
	}
	return out
}

func goValue(v lua.LValue, seen map[*lua.LTable]bool) any {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(x)
	case lua.LString:
		return string(x)
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) <= luart.MaxExactInt {
			return int64(f)
		}
		return f
	case *lua.LTable:
		if seen[x] {
			return "<cycle>"
		}
		seen[x] = true
		defer delete(seen, x)
		if n, ok := sequenceLen(x); ok {
			out := make([]any, n)
			for i := range out {
				out[i] = goValue(x.RawGetInt(i+1), seen)
			}
			return out
		}
		out := map[string]any{}
		x.ForEach(func(k, val lua.LValue) {
			out[keyString(k)] = goValue(val, seen)
		})
		return out
	case *lua.LUserData:
		if luart.IsNull(x) {
			return nil
		}
		if le, ok := luart.FromValue(x); ok {
			m := map[string]any{"code": le.Code, "message": le.Message, "op": le.Op, "retryable": le.Retryable}
			if le.Key != "" {
				m["key"] = le.Key
			}
			return m
		}
	}
	return v.String()
}

// sequenceLen reports whether t is an array: marked as one (its length is
// then its border, holes read as nil), or non-empty with keys exactly 1..n.
func sequenceLen(t *lua.LTable) (int, bool) {
	if luart.IsArray(t) {
		return t.MaxN(), true
	}
	n, count := t.MaxN(), 0
	if n == 0 {
		return 0, false
	}
	ok := true
	t.ForEach(func(k, _ lua.LValue) {
		count++
		if f, isNum := k.(lua.LNumber); !isNum || float64(f) != math.Trunc(float64(f)) || f < 1 || int(f) > n {
			ok = false
		}
	})
	return n, ok && count == n
}

func keyString(k lua.LValue) string {
	switch x := k.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) <= luart.MaxExactInt {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return k.String()
}
