package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// MaxValueDepth is how deeply tables may nest in a value converted for the
// host (GoValue, Result.Values, the CLI's -w json): deeper nesting is
// refused rather than followed, so that a script cannot exhaust the Go
// stack with a value it returns.
const MaxValueDepth = 1000

// ErrValueTooDeep is wrapped by the error of a conversion that met tables
// nested deeper than MaxValueDepth.
var ErrValueTooDeep = errors.New("value nested too deeply")

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
//   - a table met again inside itself becomes the string "<cycle>", and a
//     table nested deeper than MaxValueDepth the string "<too deep>";
//     functions, coroutines and other userdata become their tostring.
//
// GoValueContext converts the same way with a deadline, and reports a
// value nested too deeply as an error.
func GoValue(v lua.LValue) any {
	c := converter{seen: map[*lua.LTable]bool{}, lenient: true}
	out, _ := c.convert(v, 0)
	return out
}

// GoValueContext converts v as GoValue does, but stops with ctx's error
// when ctx ends (it looks every thousand values or so, so a huge value
// cannot hold a run past its deadline) and fails with an error wrapping
// ErrValueTooDeep, naming where, for tables nested deeper than
// MaxValueDepth.
func GoValueContext(ctx context.Context, v lua.LValue) (any, error) {
	c := converter{ctx: ctx, seen: map[*lua.LTable]bool{}}
	return c.convert(v, 0)
}

// convertValues converts the main chunk's results for Result.Values under
// the run's context.
func (r *run) convertValues(vs []lua.LValue) ([]any, error) {
	return goValuesContext(r.runCtx, vs)
}

func goValuesContext(ctx context.Context, vs []lua.LValue) ([]any, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		var err error
		if out[i], err = GoValueContext(ctx, v); err != nil {
			return nil, fmt.Errorf("return value #%d: %w", i+1, err)
		}
	}
	return out, nil
}

// converter is one conversion: the tables on the path being converted,
// and a count of values between looks at the context.
type converter struct {
	ctx     context.Context // nil: no deadline
	seen    map[*lua.LTable]bool
	lenient bool // too deep becomes "<too deep>" instead of an error
	count   int
}

func (c *converter) convert(v lua.LValue, depth int) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LString:
		return string(x), nil
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) <= luart.MaxExactInt {
			return int64(f), nil
		}
		return f, nil
	case *lua.LTable:
		return c.table(x, depth)
	case *lua.LUserData:
		if luart.IsNull(x) {
			return nil, nil
		}
		if le, ok := luart.FromValue(x); ok {
			m := map[string]any{"code": le.Code, "message": le.Message, "op": le.Op, "retryable": le.Retryable}
			if le.Key != "" {
				m["key"] = le.Key
			}
			return m, nil
		}
	}
	return v.String(), nil
}

func (c *converter) table(x *lua.LTable, depth int) (any, error) {
	if c.seen[x] {
		return "<cycle>", nil
	}
	if depth >= MaxValueDepth {
		if c.lenient {
			return "<too deep>", nil
		}
		return nil, fmt.Errorf("%w: tables nested more than %d levels deep", ErrValueTooDeep, MaxValueDepth)
	}
	c.seen[x] = true
	defer delete(c.seen, x)
	if n, ok := sequenceLen(x); ok {
		out := make([]any, n)
		for i := range out {
			if err := c.tick(); err != nil {
				return nil, err
			}
			var err error
			if out[i], err = c.convert(x.RawGetInt(i+1), depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	out := map[string]any{}
	var err error
	x.ForEach(func(k, val lua.LValue) {
		if err != nil {
			return
		}
		if err = c.tick(); err != nil {
			return
		}
		var e any
		if e, err = c.convert(val, depth+1); err == nil {
			out[keyString(k)] = e
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// tick looks at the context every luart.CheckEvery values.
func (c *converter) tick() error {
	c.count++
	if c.ctx == nil || c.count%luart.CheckEvery != 0 {
		return nil
	}
	return context.Cause(c.ctx)
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
