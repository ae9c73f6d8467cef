package engine

import (
	"errors"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// toNumber is Lua 5.1's tonumber(e [, base]). gopher-lua's reads a decimal
// string without a dot as an integer only, so tonumber("1e2") and
// tonumber("inf") were nil; with base 10 (given or not) this reads the
// string as Lua 5.1 does with C's strtod (testdata/tonumber_corpus.lua
// holds lua5.1's answers). Another base reads an integer in that base.
func toNumber(L *lua.LState) int {
	base := L.OptInt(2, 10)
	if base == 10 {
		switch v := L.CheckAny(1).(type) {
		case lua.LNumber:
			L.Push(v)
		case lua.LString:
			if n, ok := str2Number(string(v)); ok {
				L.Push(lua.LNumber(n))
			} else {
				L.Push(lua.LNil)
			}
		default:
			L.Push(lua.LNil)
		}
		return 1
	}
	if base < 2 || base > 36 {
		L.ArgError(2, "base out of range")
	}
	s := strings.Trim(L.CheckString(1), luaSpace)
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, rest
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	if base == 16 && len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:] // C's strtoul takes the prefix in base 16
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		L.Push(lua.LNil)
		return 1
	}
	f := float64(n)
	if errors.Is(err, strconv.ErrRange) {
		f = math.Inf(1)
	}
	if neg {
		f = -f
	}
	L.Push(lua.LNumber(f))
	return 1
}

// luaSpace is what C's isspace takes for white space.
const luaSpace = " \t\n\v\f\r"

// str2Number reads s as Lua 5.1 reads a numeral string: C's strtod (a
// decimal number with an optional exponent, a hexadecimal one, inf or nan)
// between optional white space.
func str2Number(s string) (float64, bool) {
	s = strings.Trim(s, luaSpace)
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, false // strconv takes underscores after a base prefix; C does not
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		// strconv wants a p exponent on a hexadecimal number; C does not.
		if !strings.ContainsAny(body, "pP") {
			s += "p0"
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true // out of range: C gives ±HUGE_VAL or 0 as strconv does
}
