package luart

import (
	"math"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// MaxExactInt is 2^53, the largest magnitude below which every integer is
// exactly a Lua number (float64). Integer arguments beyond it are refused,
// not rounded: a rounded revision or id would silently name another one.
const MaxExactInt = 1 << 53

// maxDurationSeconds keeps seconds*1e9 inside an int64 of nanoseconds.
const maxDurationSeconds = float64(math.MaxInt64) / float64(time.Second)

// Args checks the arguments of a Go function called from Lua. It is a small
// value made once per call, such as
//
//	a := luart.Args{L: L, Fn: "etcd.put"}
//	key := a.Key(1, "key")
//	value := a.String(2, "value")
//
// Each check either returns the converted value or raises invalid_argument
// (`etcd.put: bad argument #2 (value): string expected, got table`); nothing
// allocates unless a check fails.
type Args struct {
	// L is the state whose stack holds the arguments.
	L *lua.LState
	// Fn names the function in messages and in err.op, such as "etcd.put".
	Fn string
	// Offset is how many stack slots precede the arguments the script sees:
	// 1 for a method called as obj:fn(...), whose self is slot 1, so that
	// messages count arguments the way the script wrote them.
	Offset int
}

// ArgError raises an invalid_argument error for fn: the message reads
// "bad argument " + arg + ": " + the formatted text, arg being a description
// such as `#2 (value)`. It does not return.
func ArgError(L *lua.LState, fn, arg, format string, args ...any) {
	Raise(L, &Error{
		Code:    CodeInvalidArgument,
		Op:      fn,
		Message: "bad argument " + arg + ": " + sprintf(format, args...),
	})
}

// Fail raises invalid_argument for the argument at stack position n, named
// name. It does not return.
func (a Args) Fail(n int, name, format string, args ...any) {
	ArgError(a.L, a.Fn, a.argDesc(n, name), format, args...)
}

func (a Args) argDesc(n int, name string) string {
	d := "#" + strconv.Itoa(n-a.Offset)
	if name != "" {
		d += " (" + name + ")"
	}
	return d
}

// typeFail raises the classic "X expected, got Y" message, saying "no value"
// for a missing argument as Lua does.
func (a Args) typeFail(n int, name, want string) {
	got := "no value"
	if n <= a.L.GetTop() {
		got = a.L.Get(n).Type().String()
	}
	a.Fail(n, name, "%s expected, got %s", want, got)
}

// present reports whether the argument at n was given and is not nil.
func (a Args) present(n int) bool {
	return a.L.Get(n) != lua.LNil
}

// Any returns the argument at n, which may be any value but must be given
// (nil counts as given, as in Lua's luaL_checkany).
func (a Args) Any(n int, name string) lua.LValue {
	if n > a.L.GetTop() {
		a.typeFail(n, name, "value")
	}
	return a.L.Get(n)
}

// String returns the string at n. A number is accepted and converted the
// way Lua's tostring does, as Lua's own library functions do.
func (a Args) String(n int, name string) string {
	switch v := a.L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	a.typeFail(n, name, "string")
	return ""
}

// OptString is String with def for a missing or nil argument.
func (a Args) OptString(n int, name, def string) string {
	if !a.present(n) {
		return def
	}
	return a.String(n, name)
}

// Key returns the etcd key at n: a string, where an empty one raises
// empty_key rather than invalid_argument.
func (a Args) Key(n int, name string) string {
	k := a.String(n, name)
	if k == "" {
		Raise(a.L, &Error{Code: CodeEmptyKey, Op: a.Fn, Message: "bad argument " + a.argDesc(n, name) + ": key is empty"})
	}
	return k
}

// Number returns the number at n. Numeric strings are not converted: a
// string where a number belongs is more often a mistake than a shortcut.
func (a Args) Number(n int, name string) float64 {
	if v, ok := a.L.Get(n).(lua.LNumber); ok {
		return float64(v)
	}
	a.typeFail(n, name, "number")
	return 0
}

// OptNumber is Number with def for a missing or nil argument.
func (a Args) OptNumber(n int, name string, def float64) float64 {
	if !a.present(n) {
		return def
	}
	return a.Number(n, name)
}

// Int returns the integer at n: a number with no fraction and a magnitude
// of at most 2^53.
func (a Args) Int(n int, name string) int64 {
	v, ok := a.L.Get(n).(lua.LNumber)
	if !ok {
		a.typeFail(n, name, "integer")
	}
	i, msg := toInt(float64(v))
	if msg != "" {
		a.Fail(n, name, "%s", msg)
	}
	return i
}

// OptInt is Int with def for a missing or nil argument.
func (a Args) OptInt(n int, name string, def int64) int64 {
	if !a.present(n) {
		return def
	}
	return a.Int(n, name)
}

// Revision returns the revision at n: an integer of at least 0 (0 means
// the latest).
func (a Args) Revision(n int, name string) int64 {
	r := a.Int(n, name)
	if r < 0 {
		a.Fail(n, name, "revision must not be negative, got %d", r)
	}
	return r
}

// Bool returns the boolean at n. Only true and false are booleans: other
// values are refused rather than judged by truthiness.
func (a Args) Bool(n int, name string) bool {
	if v, ok := a.L.Get(n).(lua.LBool); ok {
		return bool(v)
	}
	a.typeFail(n, name, "boolean")
	return false
}

// OptBool is Bool with def for a missing or nil argument.
func (a Args) OptBool(n int, name string, def bool) bool {
	if !a.present(n) {
		return def
	}
	return a.Bool(n, name)
}

// Table returns the table at n.
func (a Args) Table(n int, name string) *lua.LTable {
	if v, ok := a.L.Get(n).(*lua.LTable); ok {
		return v
	}
	a.typeFail(n, name, "table")
	return nil
}

// OptTable returns the table at n, or nil for a missing or nil argument.
func (a Args) OptTable(n int, name string) *lua.LTable {
	if !a.present(n) {
		return nil
	}
	return a.Table(n, name)
}

// Function returns the function at n.
func (a Args) Function(n int, name string) *lua.LFunction {
	if v, ok := a.L.Get(n).(*lua.LFunction); ok {
		return v
	}
	a.typeFail(n, name, "function")
	return nil
}

// OptFunction returns the function at n, or nil for a missing or nil
// argument.
func (a Args) OptFunction(n int, name string) *lua.LFunction {
	if !a.present(n) {
		return nil
	}
	return a.Function(n, name)
}

// Duration returns the duration at n, given in seconds (fractions allowed),
// which must be finite and not negative.
func (a Args) Duration(n int, name string) time.Duration {
	v, ok := a.L.Get(n).(lua.LNumber)
	if !ok {
		a.typeFail(n, name, "number of seconds")
	}
	d, msg := toDuration(float64(v))
	if msg != "" {
		a.Fail(n, name, "%s", msg)
	}
	return d
}

// OptDuration is Duration with def for a missing or nil argument.
func (a Args) OptDuration(n int, name string, def time.Duration) time.Duration {
	if !a.present(n) {
		return def
	}
	return a.Duration(n, name)
}

// toInt converts a Lua number to an integer, or says why it cannot.
func toInt(f float64) (int64, string) {
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, "integer expected, got " + strconv.FormatFloat(f, 'g', -1, 64)
	}
	if f > MaxExactInt || f < -MaxExactInt {
		return 0, "integer " + strconv.FormatFloat(f, 'g', -1, 64) + " is beyond 2^53 and cannot be exact: refused, not rounded"
	}
	return int64(f), ""
}

// toDuration converts seconds to a duration, or says why it cannot.
func toDuration(s float64) (time.Duration, string) {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return 0, "finite number of seconds expected"
	case s < 0:
		return 0, "duration must not be negative, got " + strconv.FormatFloat(s, 'g', -1, 64)
	case s > maxDurationSeconds:
		return 0, "duration of " + strconv.FormatFloat(s, 'g', -1, 64) + " seconds is too long"
	}
	return time.Duration(s * float64(time.Second)), ""
}
