package stdlib

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// jsonDecoder reads JSON text into Lua values.
type jsonDecoder struct {
	L     *lua.LState
	s     string
	pos   int
	depth int
	null  lua.LValue
	// ctx is L's context: a large input is decoded until it ends.
	ctx  context.Context
	poll luart.Poll
}

// DecodeError is a JSON syntax error at a position of the input.
type DecodeError struct {
	// Offset is the byte offset of the error, from 0.
	Offset int
	// Line and Column locate it for people, both from 1; the column counts
	// bytes.
	Line, Column int
	// Problem says what is wrong.
	Problem string
}

// Error says where the input is wrong and how.
func (e *DecodeError) Error() string {
	return "invalid JSON at line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + " (offset " + strconv.Itoa(e.Offset) + "): " + e.Problem
}

// DecodeJSON decodes one JSON text into a Lua value in L: objects become
// tables, arrays tables marked as arrays, null the null sentinel. It
// returns the error of L's context (L.Context()) if that ends first.
func DecodeJSON(L *lua.LState, s string) (lua.LValue, error) {
	d := &jsonDecoder{L: L, s: s, null: luart.Null(L), ctx: L.Context()}
	d.poll = luart.NewPoll(d.ctx)
	// A UTF-8 byte order mark is not JSON, but editors write it.
	d.pos = len(s) - len(strings.TrimPrefix(s, "\uFEFF"))
	d.space()
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.space()
	if d.pos < len(d.s) {
		return nil, d.fail("unexpected " + d.describe() + " after the value")
	}
	return v, nil
}

func (d *jsonDecoder) fail(problem string) error {
	line, col := 1, 1
	last := strings.LastIndexByte(d.s[:d.pos], '\n')
	line += strings.Count(d.s[:d.pos], "\n")
	col = d.pos - last
	return &DecodeError{Offset: d.pos, Line: line, Column: col, Problem: problem}
}

// describe names the byte at the current position for a message.
func (d *jsonDecoder) describe() string {
	if d.pos >= len(d.s) {
		return "end of input"
	}
	c := d.s[d.pos]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (lua.LValue, error) {
	if d.poll.Step() {
		return nil, d.ctx.Err()
	}
	if d.pos >= len(d.s) {
		return nil, d.fail("unexpected end of input, expected a value")
	}
	switch c := d.s[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return lua.LString(s), nil
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true", lua.LTrue)
	case c == 'f':
		return d.literal("false", lua.LFalse)
	case c == 'n':
		return d.literal("null", d.null)
	}
	return nil, d.fail("unexpected " + d.describe() + ", expected a value")
}

func (d *jsonDecoder) literal(word string, v lua.LValue) (lua.LValue, error) {
	if !strings.HasPrefix(d.s[d.pos:], word) {
		return nil, d.fail("invalid literal, expected " + word)
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.fail("nested deeper than 1000 levels")
	}
	return nil
}

func (d *jsonDecoder) object() (lua.LValue, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	d.pos++ // {
	t := d.L.NewTable()
	d.space()
	if d.pos < len(d.s) && d.s[d.pos] == '}' {
		d.pos++
		return t, nil
	}
	for {
		d.space()
		if d.pos >= len(d.s) || d.s[d.pos] != '"' {
			return nil, d.fail("unexpected " + d.describe() + ", expected a string key")
		}
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.pos >= len(d.s) || d.s[d.pos] != ':' {
			return nil, d.fail("unexpected " + d.describe() + ", expected ':' after the key")
		}
		d.pos++
		d.space()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		// A repeated key keeps its last value, as most readers do.
		t.RawSetString(key, v)
		d.space()
		if d.pos >= len(d.s) {
			return nil, d.fail("unexpected end of input, expected ',' or '}'")
		}
		switch d.s[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return t, nil
		default:
			return nil, d.fail("unexpected " + d.describe() + ", expected ',' or '}'")
		}
	}
}

func (d *jsonDecoder) array() (lua.LValue, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	d.pos++ // [
	t := luart.NewArray(d.L, 0)
	d.space()
	if d.pos < len(d.s) && d.s[d.pos] == ']' {
		d.pos++
		return t, nil
	}
	for i := 1; ; i++ {
		d.space()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		t.RawSetInt(i, v)
		d.space()
		if d.pos >= len(d.s) {
			return nil, d.fail("unexpected end of input, expected ',' or ']'")
		}
		switch d.s[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return t, nil
		default:
			return nil, d.fail("unexpected " + d.describe() + ", expected ',' or ']'")
		}
	}
}

// number reads a number, strictly by the JSON grammar (no leading zeros,
// no bare dot, no hex, no NaN).
func (d *jsonDecoder) number() (lua.LValue, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.s) && d.s[d.pos] >= '0' && d.s[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.s[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.s) && d.s[d.pos] == '0' {
		d.pos++
		if d.pos < len(d.s) && d.s[d.pos] >= '0' && d.s[d.pos] <= '9' {
			return nil, d.fail("invalid number: leading zero")
		}
	} else if digits() == 0 {
		return nil, d.fail("invalid number: expected a digit")
	}
	if d.pos < len(d.s) && d.s[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.fail("invalid number: expected a digit after '.'")
		}
	}
	if d.pos < len(d.s) && (d.s[d.pos] == 'e' || d.s[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.s) && (d.s[d.pos] == '+' || d.s[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.fail("invalid number: expected a digit in the exponent")
		}
	}
	text := d.s[start:d.pos]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		d.pos = start
		if len(text) > 40 {
			text = text[:37] + "..."
		}
		return nil, d.fail("number " + text + " is out of range")
	}
	return lua.LNumber(f), nil
}

// string reads a quoted string. Strings without escapes are sliced from the
// input without copying.
func (d *jsonDecoder) string() (string, error) {
	d.pos++ // "
	start := d.pos
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		switch {
		case c == '"':
			s := d.s[start:d.pos]
			d.pos++
			return s, nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return "", d.fail("control character in string (byte 0x" + strconv.FormatUint(uint64(c), 16) + "); write it escaped")
		case c < utf8.RuneSelf:
			d.pos++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", d.fail("invalid UTF-8 in string")
			}
			d.pos += size
		}
	}
	return "", d.fail("unexpected end of input in string")
}

// escapedString finishes a string from start that has escapes, building it
// in a buffer.
func (d *jsonDecoder) escapedString(start int) (string, error) {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.s[start:d.pos]...)
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c == '\\':
			d.pos++
			if d.pos >= len(d.s) {
				return "", d.fail("unexpected end of input in string")
			}
			e := d.s[d.pos]
			d.pos++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := d.unicodeEscape()
				if err != nil {
					return "", err
				}
				buf = utf8.AppendRune(buf, r)
			default:
				d.pos -= 2
				return "", d.fail("invalid escape \\" + string(rune(e)))
			}
		case c < 0x20:
			return "", d.fail("control character in string (byte 0x" + strconv.FormatUint(uint64(c), 16) + "); write it escaped")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", d.fail("invalid UTF-8 in string")
			}
			buf = append(buf, d.s[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
	return "", d.fail("unexpected end of input in string")
}

// unicodeEscape reads the XXXX of \uXXXX (after the u), joining a surrogate
// pair into one character.
func (d *jsonDecoder) unicodeEscape() (rune, error) {
	r, ok := d.hex4()
	if !ok {
		return 0, d.fail("invalid \\u escape: expected 4 hex digits")
	}
	if !utf16.IsSurrogate(r) {
		return r, nil
	}
	if r < 0xdc00 && strings.HasPrefix(d.s[d.pos:], "\\u") {
		d.pos += 2
		low, ok := d.hex4()
		if !ok {
			return 0, d.fail("invalid \\u escape: expected 4 hex digits")
		}
		if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
			return pair, nil
		}
	}
	return 0, d.fail("invalid \\u escape: lone surrogate (not a character)")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.pos : d.pos+4]) {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	d.pos += 4
	return r, true
}
