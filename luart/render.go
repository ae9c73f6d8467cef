package luart

import (
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// RenderOptions bound Render and say how it writes what is neither a string
// nor a table.
type RenderOptions struct {
	// Depth is how many levels of nested tables are written before "{...}".
	Depth int
	// Items is how many entries of one table are written before "...".
	Items int
	// Other writes any other value; nil means v.String().
	Other func(v lua.LValue) string
}

// Render writes v for a person (an error message, an assertion failure):
// strings quoted, tables as Lua constructors with sorted keys (numbers
// first, in numeric order), cut at o.Depth and o.Items, cycles marked.
func Render(v lua.LValue, o RenderOptions) string {
	r := renderer{o: o, seen: map[*lua.LTable]bool{}}
	r.value(v, 0)
	return r.b.String()
}

type renderer struct {
	b    strings.Builder
	o    RenderOptions
	seen map[*lua.LTable]bool
}

func (r *renderer) value(v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		r.b.WriteString(strconv.Quote(string(x)))
	case *lua.LTable:
		r.table(x, depth)
	default:
		if r.o.Other != nil {
			r.b.WriteString(r.o.Other(v))
		} else {
			r.b.WriteString(v.String())
		}
	}
}

func (r *renderer) table(t *lua.LTable, depth int) {
	if r.seen[t] {
		r.b.WriteString("<cycle>")
		return
	}
	if depth >= r.o.Depth {
		r.b.WriteString("{...}")
		return
	}
	r.seen[t] = true
	defer delete(r.seen, t)
	type entry struct {
		key  lua.LValue
		sort string
	}
	var entries []entry
	t.ForEach(func(k, _ lua.LValue) {
		s := k.String()
		if n, ok := k.(lua.LNumber); ok {
			s = "\x00" + strconv.FormatFloat(float64(n)+1e15, 'f', 6, 64)
		}
		entries = append(entries, entry{k, s})
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].sort < entries[j].sort })
	r.b.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			r.b.WriteString(", ")
		}
		if i == r.o.Items {
			r.b.WriteString("...")
			break
		}
		// Array entries in order are written without their index.
		if n, ok := e.key.(lua.LNumber); !ok || float64(n) != float64(i+1) {
			if s, ok := e.key.(lua.LString); ok && isIdent(string(s)) {
				r.b.WriteString(string(s))
			} else {
				r.b.WriteByte('[')
				r.value(e.key, depth+1)
				r.b.WriteByte(']')
			}
			r.b.WriteString(" = ")
		}
		r.value(t.RawGet(e.key), depth+1)
	}
	r.b.WriteByte('}')
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
