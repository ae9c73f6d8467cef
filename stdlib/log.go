package stdlib

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Log levels, in increasing order of severity.
const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
)

var levelNames = [...]string{"debug", "info", "warn", "error"}

// parseLevel maps a --log-level value to a level; anything unknown is info,
// so a typo in a flag never silences errors.
func parseLevel(s string) int {
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return i
		}
	}
	if strings.EqualFold(s, "warning") {
		return levelWarn
	}
	return levelInfo
}

// Log is the log module:
//
//	log.debug(msg [, fields]), log.info(...), log.warn(...), log.error(...)
//
// Each call writes one line to the run's stderr in logfmt:
//
//	time=2024-05-01T12:00:00.000Z level=info msg="copied keys" count=12 prefix=app/
//
// time is UTC with milliseconds; fields follow msg sorted by name, so lines
// are stable. Values are written bare when they can be, else quoted as Go
// strings; tables are written as compact JSON, error objects as their text.
// Calls below the run's level (--log-level, default info) write nothing. msg
// may be a string, a number or an error object.
func Log(rt *luart.Runtime) lua.LGFunction {
	minLevel := parseLevel(rt.LogLevel)
	return loader(func(L *lua.LState) *lua.LTable {
		fns := map[string]lua.LGFunction{}
		for level, name := range levelNames {
			fn := "log." + name
			fns[name] = func(L *lua.LState) int {
				a := luart.Args{L: L, Fn: fn}
				msg := logMessage(a)
				fields := a.OptTable(2, "fields")
				if level < minLevel {
					return 0
				}
				line := formatLogLine(rt, L, a, name, msg, fields)
				// One Write per line keeps lines whole when writers are shared.
				_, _ = rt.StderrWriter().Write(line)
				return 0
			}
		}
		return moduleTable(L, fns)
	})
}

func logMessage(a luart.Args) string {
	if e, ok := luart.FromValue(a.L.Get(1)); ok {
		return e.Error()
	}
	return a.String(1, "msg")
}

type logField struct {
	key   string
	value lua.LValue
}

func formatLogLine(rt *luart.Runtime, L *lua.LState, a luart.Args, level, msg string, fields *lua.LTable) []byte {
	b := make([]byte, 0, 128)
	b = append(b, "time="...)
	b = rt.TimeNow().UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, " level="...)
	b = append(b, level...)
	b = append(b, " msg="...)
	b = appendLogValue(b, msg)
	if fields != nil {
		var fs []logField
		for k, v := fields.Next(lua.LNil); k != lua.LNil; k, v = fields.Next(k) {
			ks, ok := k.(lua.LString)
			if !ok {
				a.Fail(2, "fields", "field names are strings, got a %s key", k.Type().String())
			}
			fs = append(fs, logField{string(ks), v})
		}
		sort.Slice(fs, func(i, j int) bool { return fs[i].key < fs[j].key })
		for _, f := range fs {
			b = append(b, ' ')
			b = append(b, logKey(f.key)...)
			b = append(b, '=')
			b = appendLogValue(b, logText(L, f.value))
		}
	}
	return append(b, '\n')
}

// logText renders a field value as text.
func logText(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		if b, ok := appendNumber(nil, float64(x)); ok {
			return string(b)
		}
		return x.String()
	case *lua.LUserData:
		if e, ok := luart.FromValue(x); ok {
			return e.Error()
		}
		if luart.IsNull(x) {
			return "null"
		}
	case *lua.LTable:
		if out, err := EncodeJSON(x, "", true); err == nil {
			return string(out)
		}
	}
	return lua.LVAsString(L.ToStringMeta(v))
}

// logKey makes a field name safe for logfmt: no spaces, quotes or '='.
func logKey(k string) string {
	if k == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, k)
}

// appendLogValue writes s bare when a logfmt reader takes it as is, else
// quoted.
func appendLogValue(b []byte, s string) []byte {
	if s == "" || needsQuote(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuote(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
