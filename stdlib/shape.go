package stdlib

import (
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// maxDepth bounds the nesting the encoders and decoders follow. Real data is
// far shallower; the bound turns runaway input into an error, not a crash.
const maxDepth = 1000

// shape is what a table encodes as.
type shape int

const (
	shapeObject shape = iota
	shapeArray
)

// tableShape decides whether t encodes as an array (returning its length)
// or an object, by the rules in the package doc. A non-empty problem is a
// reason t cannot be encoded.
func tableShape(t *lua.LTable) (s shape, n int, problem string) {
	marked := luart.IsArray(t)
	count, maxIndex := 0, 0
	other := false
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		count++
		switch key := k.(type) {
		case lua.LNumber:
			f := float64(key)
			if f >= 1 && f == math.Trunc(f) && f <= luart.MaxExactInt {
				maxIndex = max(maxIndex, int(f))
				continue
			}
			if marked {
				return 0, 0, "array with key " + key.String()
			}
			other = true
		case lua.LString:
			if marked {
				return 0, 0, "array with key " + strconv.Quote(string(key))
			}
			other = true
		default:
			return 0, 0, "table with a " + k.Type().String() + " key"
		}
	}
	switch {
	case marked:
		return shapeArray, maxIndex, ""
	case count == 0 || other:
		return shapeObject, 0, ""
	case maxIndex == count:
		return shapeArray, count, ""
	}
	return 0, 0, "sparse array (" + strconv.Itoa(count) + " elements, largest index " + strconv.Itoa(maxIndex) + "); mark it with json.array to write null for the holes"
}

// entry is one field of an object: its key as text and as the Lua value.
type entry struct {
	name  string
	key   lua.LValue
	value lua.LValue
}

// objectEntries lists the fields of a table that encodes as an object,
// sorted by name when sorted is set, else in Lua's iteration order. Number
// keys are named as their decimal text; two keys with the same name (1 and
// "1") are a problem.
func objectEntries(t *lua.LTable, sorted bool) ([]entry, string) {
	var entries []entry
	numbers := false
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		var name string
		switch key := k.(type) {
		case lua.LString:
			name = string(key)
		case lua.LNumber:
			b, ok := appendNumber(nil, float64(key))
			if !ok {
				return nil, "table with key " + nonFiniteName(float64(key))
			}
			name = string(b)
			numbers = true
		default:
			return nil, "table with a " + k.Type().String() + " key"
		}
		entries = append(entries, entry{name, k, v})
	}
	if sorted {
		sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	}
	if numbers {
		seen := make(map[string]bool, len(entries))
		for _, e := range entries {
			if seen[e.name] {
				return nil, "duplicate key " + strconv.Quote(e.name) + " (a number key and a string key)"
			}
			seen[e.name] = true
		}
	}
	return entries, ""
}

// appendNumber writes f as JSON writes numbers: integers up to 2^53 without
// a fraction, others in the shortest form that reads back the same, in
// exponent form only for very small or very large magnitudes. It reports
// false for NaN and infinities, which JSON cannot write.
func appendNumber(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	if f == math.Trunc(f) && math.Abs(f) <= luart.MaxExactInt {
		return strconv.AppendInt(b, int64(f), 10), true
	}
	abs := math.Abs(f)
	if abs < 1e-6 || abs >= 1e21 {
		start := len(b)
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// Shorten "e-07" to "e-7", as JavaScript writes it.
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
		return b, true
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64), true
}

// valuePath is the path of the value being encoded, from the root, for error
// messages: $ then .name, ["odd name"] or [index] per level.
type valuePath []lua.LValue

// pathEnds is how many levels a long path shows at each of its ends.
const pathEnds = 8

// String formats the path as in error messages: $.a["b c"][3]. A path
// deeper than 2*pathEnds levels shows its ends and the number of levels
// left out, so that the error of a value nested 1000 deep stays readable.
func (p valuePath) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for i, k := range p {
		if len(p) > 2*pathEnds && i >= pathEnds && i < len(p)-pathEnds {
			if i == pathEnds {
				b.WriteString("...(" + strconv.Itoa(len(p)-2*pathEnds) + " levels)...")
			}
			continue
		}
		switch key := k.(type) {
		case lua.LString:
			if isIdentifier(string(key)) {
				b.WriteByte('.')
				b.WriteString(string(key))
			} else {
				b.WriteByte('[')
				b.WriteString(strconv.Quote(string(key)))
				b.WriteByte(']')
			}
		default:
			b.WriteByte('[')
			b.WriteString(k.String())
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// typeName names a value that cannot be encoded.
func typeName(v lua.LValue) string {
	return v.Type().String()
}

// encodeError is an encoding failure at a path.
type encodeError struct {
	path    string
	problem string
}

// Error names the path and what cannot be encoded there.
func (e *encodeError) Error() string {
	return "unsupported value at " + e.path + ": " + e.problem
}
