package stdlib

import (
	"context"
	"math"
	"strconv"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// jsonEncoder writes one Lua value as JSON text.
type jsonEncoder struct {
	buf      []byte
	indent   string
	sortKeys bool
	// stack holds the tables being encoded, from the root: a table found on
	// it again is a cycle.
	stack []*lua.LTable
	path  valuePath
	ctx   context.Context
	poll  luart.Poll
}

// EncodeJSON encodes v as JSON. indent is the text of one nesting level
// ("" for compact output); sortKeys sorts object keys. The error of a value
// that cannot be encoded names its path.
func EncodeJSON(v lua.LValue, indent string, sortKeys bool) ([]byte, error) {
	return encodeJSON(nil, v, indent, sortKeys)
}

// encodeJSON is EncodeJSON that gives up with ctx's error when ctx ends
// (a nil ctx never does).
func encodeJSON(ctx context.Context, v lua.LValue, indent string, sortKeys bool) ([]byte, error) {
	e := &jsonEncoder{indent: indent, sortKeys: sortKeys, buf: make([]byte, 0, 64), ctx: ctx, poll: luart.NewPoll(ctx)}
	if err := e.value(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

func (e *jsonEncoder) fail(problem string) error {
	return &encodeError{path: e.path.String(), problem: problem}
}

func (e *jsonEncoder) value(v lua.LValue) error {
	if e.poll.Step() {
		return e.ctx.Err()
	}
	switch x := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case lua.LNumber:
		b, ok := appendNumber(e.buf, float64(x))
		if !ok {
			return e.fail(nonFiniteName(float64(x)) + " (JSON has no NaN or infinity)")
		}
		e.buf = b
	case lua.LString:
		return e.string(string(x))
	case *lua.LTable:
		return e.table(x)
	case *lua.LUserData:
		if luart.IsNull(x) {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if le, ok := luart.FromValue(x); ok {
			return e.errorObject(le)
		}
		return e.fail("userdata")
	default:
		return e.fail(typeName(v))
	}
	return nil
}

func (e *jsonEncoder) table(t *lua.LTable) error {
	for _, s := range e.stack {
		if s == t {
			return e.fail("cycle (the table contains itself)")
		}
	}
	if len(e.stack) >= maxDepth {
		return e.fail("nested deeper than 1000 levels")
	}
	e.stack = append(e.stack, t)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()

	s, n, problem := tableShape(t)
	if problem != "" {
		return e.fail(problem)
	}
	if s == shapeArray {
		return e.array(t, n)
	}
	entries, problem := objectEntries(t, e.sortKeys)
	if problem != "" {
		return e.fail(problem)
	}
	if len(entries) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline()
		e.path = append(e.path, en.key)
		if err := e.string(en.name); err != nil {
			return err
		}
		e.buf = append(e.buf, ':')
		if e.indent != "" {
			e.buf = append(e.buf, ' ')
		}
		if err := e.value(en.value); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.closeWith('}')
	return nil
}

func (e *jsonEncoder) array(t *lua.LTable, n int) error {
	if n == 0 {
		e.buf = append(e.buf, "[]"...)
		return nil
	}
	e.buf = append(e.buf, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.newline()
		e.path = append(e.path, lua.LNumber(i))
		if err := e.value(t.RawGetInt(i)); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.closeWith(']')
	return nil
}

// errorObject writes an error object as the fields a script reads from it.
func (e *jsonEncoder) errorObject(le *luart.Error) error {
	e.buf = append(e.buf, '{')
	fields := []struct{ k, v string }{{"code", le.Code}, {"key", le.Key}, {"message", le.Message}, {"op", le.Op}}
	for _, f := range fields {
		if f.k == "key" && f.v == "" {
			continue
		}
		e.newline()
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, f.k...)
		e.buf = append(e.buf, "\":"...)
		if e.indent != "" {
			e.buf = append(e.buf, ' ')
		}
		if err := e.string(f.v); err != nil {
			return err
		}
		e.buf = append(e.buf, ',')
	}
	e.newline()
	e.buf = append(e.buf, "\"retryable\":"...)
	if e.indent != "" {
		e.buf = append(e.buf, ' ')
	}
	if le.Retryable {
		e.buf = append(e.buf, "true"...)
	} else {
		e.buf = append(e.buf, "false"...)
	}
	e.closeWith('}')
	return nil
}

// newline starts a line at the current depth when indenting.
func (e *jsonEncoder) newline() {
	if e.indent == "" {
		return
	}
	e.buf = append(e.buf, '\n')
	for range len(e.stack) {
		e.buf = append(e.buf, e.indent...)
	}
}

// closeWith ends an array or object, on its own line when indenting.
func (e *jsonEncoder) closeWith(c byte) {
	if e.indent != "" {
		e.buf = append(e.buf, '\n')
		for range len(e.stack) - 1 {
			e.buf = append(e.buf, e.indent...)
		}
	}
	e.buf = append(e.buf, c)
}

const hexDigits = "0123456789abcdef"

// string writes s quoted. Only what JSON requires is escaped: quotes,
// backslashes and control characters; the rest of UTF-8 passes as is.
func (e *jsonEncoder) string(s string) error {
	if !utf8.ValidString(s) {
		return e.fail("string is not valid UTF-8 (" + badUTF8Offset(s) + "); encode binary data with base64 first")
	}
	e.buf = append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		e.buf = append(e.buf, s[start:i]...)
		switch c {
		case '"', '\\':
			e.buf = append(e.buf, '\\', c)
		case '\n':
			e.buf = append(e.buf, '\\', 'n')
		case '\r':
			e.buf = append(e.buf, '\\', 'r')
		case '\t':
			e.buf = append(e.buf, '\\', 't')
		case '\b':
			e.buf = append(e.buf, '\\', 'b')
		case '\f':
			e.buf = append(e.buf, '\\', 'f')
		default:
			e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
	return nil
}

// badUTF8Offset says where the first invalid byte of s is.
func badUTF8Offset(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return "byte " + strconv.Itoa(i+1) + " of " + strconv.Itoa(len(s))
		}
		i += size
	}
	return "unknown byte"
}

// nonFiniteName names NaN and the infinities the way a reader expects.
func nonFiniteName(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "infinity"
	}
	return "-infinity"
}
