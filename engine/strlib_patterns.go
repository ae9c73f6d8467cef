package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// fixLongBuiltins replaces the built-ins of gopher-lua that can run for
// as long as their arguments make them, and never look at the run's
// context, with ones that do: the pattern functions of string (on the
// matcher of pattern.go) and table.sort (tablesort.go).
func (r *run) fixLongBuiltins(L *lua.LState) {
	if stockLibs {
		return
	}
	pl := &patternLib{r: r}
	str := L.GetGlobal("string").(*lua.LTable)
	// The string metatable's __index is this same table, so s:find(...)
	// gets these too.
	str.RawSetString("find", L.NewFunction(pl.find))
	str.RawSetString("match", L.NewFunction(pl.match))
	str.RawSetString("gmatch", L.NewFunction(pl.gmatch))
	str.RawSetString("gsub", L.NewFunction(pl.gsub))
	tab := L.GetGlobal("table").(*lua.LTable)
	tab.RawSetString("sort", L.NewFunction(r.tableSort))
}

// patternLib is string.find, match, gmatch and gsub of one run, with Lua
// 5.1's semantics.
type patternLib struct {
	r *run
	// cache holds the compiled patterns of this run: scripts match the
	// same few patterns over and over, and compiling costs more than
	// matching a short string. A pattern is never changed once compiled,
	// so nested calls (a gsub callback) share them safely.
	cache map[patternKey]*pattern
}

type patternKey struct {
	pat      string
	anchorOK bool
}

// Only short patterns are kept, and at most cacheSize of them: a script
// that builds patterns from data does not grow the cache without bound.
const (
	cacheSize       = 128
	cachePatternLen = 256
)

// compile returns pat compiled, from the cache when it is there.
func (pl *patternLib) compile(pat string, anchorOK bool) *pattern {
	if len(pat) > cachePatternLen {
		return compilePattern(pat, anchorOK)
	}
	k := patternKey{pat, anchorOK}
	if p, ok := pl.cache[k]; ok {
		return p
	}
	if pl.cache == nil || len(pl.cache) >= cacheSize {
		pl.cache = make(map[patternKey]*pattern, cacheSize)
	}
	p := compilePattern(pat, anchorOK)
	pl.cache[k] = p
	return p
}

func (pl *patternLib) ctx() context.Context { return pl.r.vmCtx }

// raise raises the error of a match: a malformed pattern with Lua's
// message (positioned at the caller, as luaL_error does), the end of the
// run as its timeout or interrupt error object.
func (pl *patternLib) raise(L *lua.LState, op string, err error) {
	if errors.Is(err, errPatternInterrupted) {
		pl.r.rt.RaiseEnded(L, op, pl.ctx())
	}
	L.RaiseError("%s", err.Error())
}

// startPos is Lua 5.1's handling of find's and match's init: negative
// counts from the end, and the result is clamped to [0, len].
func startPos(L *lua.LState, n int, slen int) int {
	init := L.OptInt64(n, 1)
	if init < 0 {
		init += int64(slen) + 1
		if init < 0 {
			init = 0
		}
	}
	init--
	switch {
	case init < 0:
		return 0
	case init > int64(slen):
		return slen
	}
	return int(init)
}

func (pl *patternLib) find(L *lua.LState) int  { return pl.findOrMatch(L, true) }
func (pl *patternLib) match(L *lua.LState) int { return pl.findOrMatch(L, false) }

func (pl *patternLib) findOrMatch(L *lua.LState, find bool) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	init := startPos(L, 3, len(src))
	op := "string.match"
	if find {
		op = "string.find"
		if lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(pat, specials) {
			i := strings.Index(src[init:], pat)
			if i < 0 {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(pat)))
			return 2
		}
	}
	m := newMatcher(pl.ctx(), pl.compile(pat, true), src)
	defer m.release()
	start, end, ok, err := m.search(init)
	if err != nil {
		pl.raise(L, op, err)
	}
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	if find {
		L.Push(lua.LNumber(start + 1))
		L.Push(lua.LNumber(end))
		return 2 + pl.pushCaptures(L, m, start, end, false)
	}
	return pl.pushCaptures(L, m, start, end, true)
}

// pushCaptures pushes the captures of the match [s, e) (the whole match
// when the pattern has none and whole is set) and returns their number.
func (pl *patternLib) pushCaptures(L *lua.LState, m *matcher, s, e int, whole bool) int {
	n := m.captureCount(whole)
	for i := range n {
		L.Push(pl.captureValue(L, m, i, s, e))
	}
	return n
}

func (pl *patternLib) captureValue(L *lua.LState, m *matcher, i, s, e int) lua.LValue {
	text, pos, isPos, err := m.capture(i, s, e)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	if isPos {
		return lua.LNumber(pos)
	}
	return lua.LString(text)
}

// gmatch returns an iterator over the matches of a pattern. As in Lua 5.1,
// '^' is not an anchor here, and after an empty match the next search
// starts one character further on.
func (pl *patternLib) gmatch(L *lua.LState) int {
	src := L.CheckString(1)
	p := pl.compile(L.CheckString(2), false)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		m := newMatcher(pl.ctx(), p, src)
		defer m.release()
		start, end, ok, err := m.search(pos)
		if err != nil {
			pl.raise(L, "string.gmatch", err)
		}
		if !ok {
			return 0
		}
		pos = end
		if end == start {
			pos++
		}
		return pl.pushCaptures(L, m, start, end, true)
	}))
	return 1
}

// gsub is string.gsub(s, pattern, repl [, n]): repl is a string (with %0
// to %9 and %%), a table indexed by the first capture, or a function called
// with the captures; a false or nil result keeps the match as it was.
func (pl *patternLib) gsub(L *lua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	repl := L.Get(3)
	switch repl.(type) {
	case lua.LNumber, lua.LString, *lua.LFunction, *lua.LTable:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	maxN := L.OptInt(4, len(src)+1)
	p := pl.compile(pat, true)
	m := newMatcher(pl.ctx(), p, src)
	defer m.release()
	var b strings.Builder
	s, n := 0, 0
	for n < maxN {
		e, err := m.at(s)
		if err != nil {
			pl.raise(L, "string.gsub", err)
		}
		if e >= 0 {
			n++
			pl.replace(L, &b, m, s, e, repl)
		}
		switch {
		case e > s:
			s = e
		case s < len(src):
			b.WriteByte(src[s])
			s++
		default:
			s = len(src) + 1
		}
		if s > len(src) || p.anchored {
			break
		}
	}
	if s < len(src) {
		b.WriteString(src[s:])
	}
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

// replace writes the replacement of the match [s, e) to b.
func (pl *patternLib) replace(L *lua.LState, b *strings.Builder, m *matcher, s, e int, repl lua.LValue) {
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		pl.expand(L, b, m, s, e, lua.LVAsString(r))
		return
	case *lua.LTable:
		v = L.GetTable(r, pl.captureValue(L, m, 0, s, e))
	case *lua.LFunction:
		top := L.GetTop()
		L.Push(r)
		n := pl.pushCaptures(L, m, s, e, true)
		L.Call(n, 1)
		v = L.Get(top + 1)
		L.SetTop(top)
	}
	switch x := v.(type) {
	case lua.LString:
		b.WriteString(string(x))
	case lua.LNumber:
		b.WriteString(x.String())
	default:
		if !lua.LVAsBool(v) {
			b.WriteString(m.src[s:e])
			return
		}
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
}

// expand writes a replacement string with its %0 to %9 filled in. As in
// Lua 5.1, '%' before any other character stands for that character, and
// a '%' at the very end for a NUL byte (5.1 reads the string's terminator).
func (pl *patternLib) expand(L *lua.LState, b *strings.Builder, m *matcher, s, e int, r string) {
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(r) {
			b.WriteByte(0)
			return
		}
		d := r[i]
		switch {
		case d == '0':
			b.WriteString(m.src[s:e])
		case d >= '1' && d <= '9':
			text, pos, isPos, err := m.capture(int(d-'1'), s, e)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			if isPos {
				b.WriteString(strconv.Itoa(pos))
			} else {
				b.WriteString(text)
			}
		default:
			b.WriteByte(d)
		}
	}
}
