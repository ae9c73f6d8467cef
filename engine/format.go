package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// formatFlags are the flags a string.format spec may carry, as in C.
const formatFlags = "-+ #0"

// strFormat is string.format(fmt, ...) with Lua's rules where gopher-lua
// hands the format to Go's fmt as it is: widths and precisions of at most
// two digits (a width of a billion allocated a billion bytes), %s through
// tostring for every value (an error object's __tostring included), and
// %x, %o, %u of negative numbers as C prints them. It looks at the run's
// context every luart.CheckEvery specs and asks the budget before a piece
// of output larger than checkBytes.
func (r *run) strFormat(L *lua.LState) int {
	const op = "string.format"
	a := luart.Args{L: L, Fn: op}
	f := a.String(1, "format")
	var b strings.Builder
	arg, specs := 1, 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		start := i
		for i < len(f) && strings.IndexByte(formatFlags, f[i]) >= 0 {
			i++
		}
		if i-start > len(formatFlags) {
			a.Fail(1, "format", "invalid format (repeated flags)")
		}
		flags := f[start:i]
		var width, prec int
		width, i = formatDigits(a, f, i)
		prec = -1
		if i < len(f) && f[i] == '.' {
			prec, i = formatDigits(a, f, i+1)
		}
		if i >= len(f) {
			a.Fail(1, "format", "invalid option '%%' at the end of the format")
		}
		arg++
		specs++
		if specs%luart.CheckEvery == 0 {
			r.rt.Check(L, op)
		}
		piece := formatOne(L, a, f[i], flags, width, prec, arg)
		if len(piece) > checkBytes {
			r.rt.Reserve(L, op, int64(b.Len()+len(piece)), "a string of "+luart.FormatSize(int64(b.Len()+len(piece))))
		}
		b.WriteString(piece)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// formatDigits reads a width or precision at f[i:]: at most two digits,
// as Lua allows. It returns -1 when there is none.
func formatDigits(a luart.Args, f string, i int) (int, int) {
	j := i
	for j < len(f) && f[j] >= '0' && f[j] <= '9' {
		j++
	}
	if j-i > 2 {
		a.Fail(1, "format", "invalid format (width or precision too long)")
	}
	if j == i {
		return -1, j
	}
	n, _ := strconv.Atoi(f[i:j])
	return n, j
}

// formatOne formats argument arg for one spec.
func formatOne(L *lua.LState, a luart.Args, conv byte, flags string, width, prec, arg int) string {
	spec := "%" + flags
	if width >= 0 {
		spec += strconv.Itoa(width)
	}
	if prec >= 0 {
		spec += "." + strconv.Itoa(prec)
	}
	switch conv {
	case 'd', 'i':
		return fmt.Sprintf(spec+"d", int64(formatNumber(a, arg)))
	case 'u':
		return fmt.Sprintf(spec+"d", uint64(int64(formatNumber(a, arg))))
	case 'o', 'x', 'X':
		return fmt.Sprintf(spec+string(conv), uint64(int64(formatNumber(a, arg))))
	case 'c':
		return pad(string([]byte{byte(int64(formatNumber(a, arg)))}), flags, width)
	case 'e', 'E', 'f', 'F':
		return fmt.Sprintf(spec+string(conv), formatNumber(a, arg))
	case 'g', 'G':
		if prec < 0 {
			// C's %g has six significant digits; Go's, as many as it
			// takes to read the number back.
			spec += ".6"
		}
		return fmt.Sprintf(spec+string(conv), formatNumber(a, arg))
	case 'q':
		return quoteLua(a.String(arg, ""))
	case 's':
		if arg > L.GetTop() {
			a.Fail(arg, "", "string expected, got no value")
		}
		s := lua.LVAsString(L.ToStringMeta(L.Get(arg)))
		if prec >= 0 && prec < len(s) {
			s = s[:prec]
		}
		return pad(s, flags, width)
	}
	a.Fail(1, "format", "invalid option '%%%c' to 'format'", conv)
	return ""
}

// formatNumber returns argument n as a number: a number, or a string that
// reads as one, as Lua's tonumber does.
func formatNumber(a luart.Args, n int) float64 {
	switch v := a.L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64); err == nil {
			return f
		}
		if i, err := strconv.ParseInt(strings.TrimSpace(string(v)), 0, 64); err == nil {
			return float64(i)
		}
	}
	got := "no value"
	if n <= a.L.GetTop() {
		got = a.L.Get(n).Type().String()
	}
	a.Fail(n, "", "number expected, got %s", got)
	return math.NaN()
}

// pad pads s with spaces to width bytes, on the left unless flags hold
// '-' (C counts bytes; Go's fmt would count runes).
func pad(s, flags string, width int) string {
	if width <= len(s) {
		return s
	}
	fill := strings.Repeat(" ", width-len(s))
	if strings.IndexByte(flags, '-') >= 0 {
		return s + fill
	}
	return fill + s
}

// quoteLua writes s as Lua 5.1's %q does: between double quotes, with ",
// \, newlines, carriage returns and zero bytes escaped so that the Lua
// reader gives s back.
func quoteLua(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\000`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
