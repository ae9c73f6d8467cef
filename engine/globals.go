package engine

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Func is a Go function offered to scripts through Config.Globals or
// LuaValue. Its arguments arrive converted by GoValue (numbers as int64 or
// float64, tables as []any or map[string]any, nil as nil); its results are
// converted by LuaValue. ctx is the run's context: it ends with the run's
// timeout, an interrupt or os.exit, so a Func that blocks should watch it.
// A non-nil error is raised in the script as an error object: an error
// that wraps a client error gets that error's code (a rpctypes.ErrCompacted
// becomes "compacted"), any other error the code "internal", and the
// object's op is the function's name.
type Func func(ctx context.Context, args []any) ([]any, error)

// maxValueDepth bounds the nesting LuaValue follows, so that a value that
// contains itself (a []any holding itself) gives an error, not a crash.
const maxValueDepth = 100

// LuaValue converts a Go value to a Lua value of the run that owns L, the
// way Config.Globals are converted; a Go module (Config.Modules) uses it to
// return data without building tables by hand:
//
//   - nil becomes nil, a bool a boolean, a string or []byte a string;
//   - integers and floats become numbers; an integer beyond 2^53 in
//     magnitude, which a Lua number cannot hold exactly, is an error (pass
//     it as a string);
//   - slices and arrays become tables marked as arrays (json.encode writes
//     them as JSON arrays, empty ones too);
//   - maps with string keys become tables;
//   - a Func, or a func with Func's signature, becomes a Lua function;
//   - a lua.LValue is passed through unchanged.
//
// Anything else (structs, pointers, channels, maps with other keys) is an
// error naming where in v it was found.
func LuaValue(L *lua.LState, v any) (lua.LValue, error) {
	return toLua(L, "value", "", reflect.ValueOf(v), 0)
}

// checkValue reports the first part of v that LuaValue cannot convert, so
// that New refuses a bad Config.Globals before any run.
func checkValue(path string, v any) error {
	_, err := toLua(nil, path, path, reflect.ValueOf(v), 0)
	return err
}

var (
	funcType   = reflect.TypeFor[Func]()
	lvalueType = reflect.TypeFor[lua.LValue]()
	bytesType  = reflect.TypeFor[[]byte]()
)

// toLua converts v; path names it in errors, and name is the op of the
// error objects a function raises. L nil only checks.
func toLua(L *lua.LState, path, name string, v reflect.Value, depth int) (lua.LValue, error) {
	if depth > maxValueDepth {
		return nil, fmt.Errorf("%s: nested more than %d levels deep (a value that contains itself?)", path, maxValueDepth)
	}
	if !v.IsValid() {
		return lua.LNil, nil
	}
	if v.Type().Implements(lvalueType) && v.Kind() != reflect.Interface {
		if L == nil {
			return lua.LNil, nil
		}
		return v.Interface().(lua.LValue), nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return lua.LNil, nil
		}
		if v.Kind() == reflect.Interface {
			return toLua(L, path, name, v.Elem(), depth)
		}
	case reflect.Bool:
		return lua.LBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if n > luart.MaxExactInt || n < -luart.MaxExactInt {
			return nil, fmt.Errorf("%s: the integer %d is beyond 2^53, which a Lua number cannot hold exactly; pass it as a string", path, n)
		}
		return lua.LNumber(n), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := v.Uint()
		if n > luart.MaxExactInt {
			return nil, fmt.Errorf("%s: the integer %d is beyond 2^53, which a Lua number cannot hold exactly; pass it as a string", path, n)
		}
		return lua.LNumber(n), nil
	case reflect.Float32, reflect.Float64:
		return lua.LNumber(v.Float()), nil
	case reflect.String:
		return lua.LString(v.String()), nil
	case reflect.Slice, reflect.Array:
		if v.Type() == bytesType || (v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8) {
			return lua.LString(v.Bytes()), nil
		}
		if v.Kind() == reflect.Slice && v.IsNil() && L != nil {
			return luart.NewArray(L, 0), nil
		}
		var t *lua.LTable
		if L != nil {
			t = luart.NewArray(L, v.Len())
		}
		for i := 0; i < v.Len(); i++ {
			e, err := toLua(L, fmt.Sprintf("%s[%d]", path, i+1), name, v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			if t != nil {
				t.RawSetInt(i+1, e)
			}
		}
		if t == nil {
			return lua.LNil, nil
		}
		return t, nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: a map with %s keys; only string keys convert to a Lua table", path, v.Type().Key())
		}
		var t *lua.LTable
		if L != nil {
			t = L.CreateTable(0, v.Len())
		}
		// Sorted, so that errors name the same key every time.
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			ks := k.String()
			e, err := toLua(L, path+"."+ks, joinName(name, ks), v.MapIndex(k), depth+1)
			if err != nil {
				return nil, err
			}
			if t != nil {
				t.RawSetString(ks, e)
			}
		}
		if t == nil {
			return lua.LNil, nil
		}
		return t, nil
	case reflect.Func:
		if !v.Type().ConvertibleTo(funcType) {
			return nil, fmt.Errorf("%s: a function of type %s; a script can call only func(context.Context, []any) ([]any, error)", path, v.Type())
		}
		if v.IsNil() {
			return lua.LNil, nil
		}
		if L == nil {
			return lua.LNil, nil
		}
		return L.NewFunction(goFunc(name, v.Convert(funcType).Interface().(Func))), nil
	}
	return nil, fmt.Errorf("%s: a %s does not convert to a Lua value", path, v.Type())
}

func joinName(name, key string) string {
	if name == "" {
		return key
	}
	return name + "." + key
}

// goFunc wraps fn as a Lua function named name (the op of its errors).
func goFunc(name string, fn Func) lua.LGFunction {
	if name == "" {
		name = "function"
	}
	return func(L *lua.LState) int {
		rt := RuntimeOf(L)
		n := L.GetTop()
		args := make([]any, n)
		for i := range args {
			args[i] = GoValue(L.Get(i + 1))
		}
		ctx := context.Background()
		if rt != nil {
			ctx = rt.Context()
		}
		out, err := fn(ctx, args)
		if err != nil {
			rt.RaiseErr(L, name, err)
		}
		for i, o := range out {
			lv, cerr := toLua(L, fmt.Sprintf("%s: result %d", name, i+1), name, reflect.ValueOf(o), 0)
			if cerr != nil {
				luart.Raise(L, luart.Errorf(luart.CodeInternal, name, "", "%v", cerr))
			}
			L.Push(lv)
		}
		return len(out)
	}
}

// setGlobals predeclares Config.Globals in the run's state. They are set
// after the libraries and the etcd module, so a host may replace one.
func (r *run) setGlobals(L *lua.LState) {
	names := make([]string, 0, len(r.e.cfg.Globals))
	for name := range r.e.cfg.Globals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lv, err := toLua(L, fmt.Sprintf("Globals[%q]", name), name, reflect.ValueOf(r.e.cfg.Globals[name]), 0)
		if err != nil {
			// New checked every value; a value the host changed since
			// then is reported rather than half set.
			L.RaiseError("%v", err)
		}
		L.SetGlobal(name, lv)
	}
}
