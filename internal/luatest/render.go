package luatest

import (
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Render formats a Lua value for an assertion message: strings quoted,
// tables as constructors with sorted keys, cut at a modest depth and width
// so that a failure stays readable.
func Render(L *lua.LState, v lua.LValue) string {
	var b strings.Builder
	render(L, &b, v, 0)
	return b.String()
}

const (
	renderDepth = 4
	renderItems = 30
)

func render(L *lua.LState, b *strings.Builder, v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		b.WriteString(strconv.Quote(string(x)))
	case *lua.LTable:
		renderTable(L, b, x, depth)
	case *lua.LUserData:
		// Error objects and json.null have a __tostring worth showing.
		b.WriteString(lua.LVAsString(L.ToStringMeta(x)))
	default:
		b.WriteString(v.String())
	}
}

func renderTable(L *lua.LState, b *strings.Builder, t *lua.LTable, depth int) {
	if depth >= renderDepth {
		b.WriteString("{...}")
		return
	}
	type entry struct {
		key  lua.LValue
		sort string
	}
	var entries []entry
	t.ForEach(func(k, _ lua.LValue) {
		s := k.String()
		if n, ok := k.(lua.LNumber); ok {
			// Numbers first and in numeric order: 2 before 10.
			s = "\x00" + strconv.FormatFloat(float64(n)+1e15, 'f', 6, 64)
		}
		entries = append(entries, entry{k, s})
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].sort < entries[j].sort })
	b.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == renderItems {
			b.WriteString("...")
			break
		}
		if n, ok := e.key.(lua.LNumber); !ok || float64(n) != float64(i+1) {
			if s, ok := e.key.(lua.LString); ok && isIdent(string(s)) {
				b.WriteString(string(s))
			} else {
				b.WriteByte('[')
				render(L, b, e.key, depth+1)
				b.WriteByte(']')
			}
			b.WriteString(" = ")
		}
		render(L, b, t.RawGet(e.key), depth+1)
	}
	b.WriteByte('}')
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
