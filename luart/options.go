package luart

import (
	"time"

	lua "github.com/yuin/gopher-lua"
)

// OptionSet is the list of keys an options table may hold. Build one per
// function, once, and share it: checking a table against it allocates
// nothing.
type OptionSet struct {
	names []string
}

// maxOptions is the size of an OptionSet: Options tracks the fields present
// in one 64-bit mask.
const maxOptions = 64

// NewOptionSet returns the set of the given option names. It panics on more
// than 64 names or a repeated name: sets are built once, from literals, so
// either is a programming error.
func NewOptionSet(names ...string) *OptionSet {
	if len(names) > maxOptions {
		panic("luart: more than 64 option names")
	}
	s := &OptionSet{names: append([]string(nil), names...)}
	for i, n := range names {
		if s.index(n) != i {
			panic("luart: option " + n + " named twice")
		}
	}
	return s
}

// Has reports whether name is in the set.
func (s *OptionSet) Has(name string) bool { return s.index(name) >= 0 }

// index returns the position of name in the set, or -1. A linear scan
// beats a map here: sets are small, and most names differ in length, which
// the string comparison checks first.
func (s *OptionSet) index(name string) int {
	for i, n := range s.names {
		if n == name {
			return i
		}
	}
	return -1
}

// Names returns the names in the set, in the order they were given.
func (s *OptionSet) Names() []string {
	return append([]string(nil), s.names...)
}

// OptionNames returns the names of each set, by the same keys: how a
// module tells tools which options its functions take.
func OptionNames(sets map[string]*OptionSet) map[string][]string {
	out := make(map[string][]string, len(sets))
	for name, set := range sets {
		out[name] = set.Names()
	}
	return out
}

// Options reads the fields of an options table whose keys have been
// checked against an OptionSet. A missing table reads as empty, so every
// getter returns its default. Type errors name the field, as in
// `etcd.get: bad argument #2 (opts.limit): integer expected, got string`.
// Read the fields before running any Lua code that could change the table:
// some values are kept from the check.
type Options struct {
	a    Args
	n    int
	name string
	t    *lua.LTable
	set  *OptionSet
	// present has bit i set when field set.names[i] is in the table, so
	// that reading an absent field, the common case, skips the table.
	present uint64
	// The first few fields found while checking keep their values here, so
	// reading them needs no second lookup in the table.
	cached  int
	cacheAt [optionCache]uint8
	cacheV  [optionCache]lua.LValue
}

// optionCache is how many field values Options keeps from the key check;
// calls rarely pass more options than this.
const optionCache = 4

// Options checks the options table at n: it may be missing or nil, else it
// must be a table whose keys are all in set. An unknown key, typically a
// typo, raises invalid_argument naming it (and the closest known key).
func (a Args) Options(n int, name string, set *OptionSet) Options {
	o := Options{a: a, n: n, name: name, set: set}
	switch v := a.L.Get(n).(type) {
	case *lua.LTable:
		o.t = v
	case *lua.LNilType:
		return o
	default:
		a.typeFail(n, name, "table")
	}
	for k, v := o.t.Next(lua.LNil); k != lua.LNil; k, v = o.t.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok {
			a.Fail(n, name, "option names are strings, got a %s key", k.Type().String())
		}
		i := set.index(string(ks))
		if i < 0 {
			a.unknownOption(n, name, string(ks), set)
		}
		o.present |= 1 << i
		if o.cached < optionCache {
			o.cacheAt[o.cached], o.cacheV[o.cached] = uint8(i), v
			o.cached++
		}
	}
	return o
}

func (a Args) unknownOption(n int, name, key string, set *OptionSet) {
	if guess := closest(key, set.names); guess != "" {
		a.Fail(n, name, "unknown option %q (did you mean %q?)", key, guess)
	}
	a.Fail(n, name, "unknown option %q", key)
}

// Raw returns the options table, or nil when none was given.
func (o *Options) Raw() *lua.LTable { return o.t }

// Value returns the raw value of field key, lua.LNil when absent.
func (o *Options) Value(key string) lua.LValue {
	if o.present == 0 {
		return lua.LNil
	}
	i := o.set.index(key)
	if i < 0 || o.present&(1<<i) == 0 {
		return lua.LNil
	}
	for j := 0; j < o.cached; j++ {
		if int(o.cacheAt[j]) == i {
			return o.cacheV[j]
		}
	}
	return o.t.RawGetString(key)
}

// IsSet reports whether field key is present and not nil.
func (o *Options) IsSet(key string) bool {
	return o.Value(key) != lua.LNil
}

// Fail raises invalid_argument for field key. It does not return.
func (o *Options) Fail(key, format string, args ...any) {
	o.a.Fail(o.n, o.field(key), format, args...)
}

func (o *Options) field(key string) string {
	if o.name == "" {
		return key
	}
	return o.name + "." + key
}

func (o *Options) typeFail(key, want string, got lua.LValue) {
	o.Fail(key, "%s expected, got %s", want, got.Type().String())
}

// String returns field key as a string (numbers converted), or def.
func (o *Options) String(key, def string) string {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		o.typeFail(key, "string", v)
	}
	return ""
}

// Bool returns field key as a boolean, or def.
func (o *Options) Bool(key string, def bool) bool {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LBool:
		return bool(v)
	default:
		o.typeFail(key, "boolean", v)
	}
	return false
}

// Number returns field key as a number, or def.
func (o *Options) Number(key string, def float64) float64 {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		return float64(v)
	default:
		o.typeFail(key, "number", v)
	}
	return 0
}

// Int returns field key as an integer (no fraction, at most 2^53), or def.
func (o *Options) Int(key string, def int64) int64 {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		i, msg := toInt(float64(v))
		if msg != "" {
			o.Fail(key, "%s", msg)
		}
		return i
	default:
		o.typeFail(key, "integer", v)
	}
	return 0
}

// Revision returns field key as a revision (an integer of at least 0), or
// 0 when absent.
func (o *Options) Revision(key string) int64 {
	r := o.Int(key, 0)
	if r < 0 {
		o.Fail(key, "revision must not be negative, got %d", r)
	}
	return r
}

// Duration returns field key, given in seconds, as a duration, or def.
func (o *Options) Duration(key string, def time.Duration) time.Duration {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		d, msg := toDuration(float64(v))
		if msg != "" {
			o.Fail(key, "%s", msg)
		}
		return d
	default:
		o.typeFail(key, "number of seconds", v)
	}
	return 0
}

// Table returns field key as a table, or nil when absent.
func (o *Options) Table(key string) *lua.LTable {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LTable:
		return v
	default:
		o.typeFail(key, "table", v)
	}
	return nil
}

// Function returns field key as a function, or nil when absent.
func (o *Options) Function(key string) *lua.LFunction {
	switch v := o.Value(key).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LFunction:
		return v
	default:
		o.typeFail(key, "function", v)
	}
	return nil
}

// closest returns the known name nearest to key when it is near enough to
// be the intended one, for "did you mean" hints.
func closest(key string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(key, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance; option names are short, so the
// quadratic table is cheap, and it only runs on the failure path.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
