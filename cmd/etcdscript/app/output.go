package app

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/etcdscript/etcdscript/engine"
)

// writeValuesJSON prints a script's return values for -w json: one value
// as itself, several as an array, none as null, then a newline.
//
// Lua strings are byte strings and JSON strings are text. With hexStrings
// (--hex) every string value is written as hex, and so is a table key that
// is not UTF-8; table keys that are text stay as they are, being the
// names of fields. Without it a value that is not UTF-8 is an error
// naming where it is, rather than a silently mangled string.
func writeValuesJSON(w io.Writer, values []any, hexStrings bool) error {
	var out any
	switch len(values) {
	case 0:
	case 1:
		out = values[0]
	default:
		out = values
	}
	v, err := jsonSafe(out, hexStrings, nil, 0)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jsonSafe rewrites the strings of v (a value from engine.GoValue) as the
// -w json output wants them. at locates v for error messages; the path is
// written out only for an error, so that a deep value costs no more than
// its size.
func jsonSafe(v any, hexStrings bool, at *pathStep, depth int) (any, error) {
	if depth > engine.MaxValueDepth {
		return nil, fmt.Errorf("-w json: the value at %s is nested more than %d levels deep", where(at), engine.MaxValueDepth)
	}
	switch x := v.(type) {
	case string:
		if hexStrings {
			return hex.EncodeToString([]byte(x)), nil
		}
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("-w json: the value at %s is not UTF-8 text: use --hex", where(at))
		}
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = jsonSafe(e, hexStrings, &pathStep{up: at, index: i + 1}, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(x))
		for _, k := range keys {
			name := k
			if !utf8.ValidString(k) {
				if !hexStrings {
					return nil, fmt.Errorf("-w json: a key in %s is not UTF-8 text: use --hex", where(at))
				}
				name = hex.EncodeToString([]byte(k))
			}
			e, err := jsonSafe(x[k], hexStrings, &pathStep{up: at, key: name}, depth+1)
			if err != nil {
				return nil, err
			}
			out[name] = e
		}
		return out, nil
	}
	return v, nil
}

// pathStep is one step of the path to a value: an array index (from 1,
// as in Lua) or a field name; up is nil at the top level.
type pathStep struct {
	up    *pathStep
	index int
	key   string
}

func where(at *pathStep) string {
	if at == nil {
		return "the top level"
	}
	var steps []*pathStep
	for p := at; p != nil; p = p.up {
		steps = append(steps, p)
	}
	var b strings.Builder
	for i := len(steps) - 1; i >= 0; i-- {
		if s := steps[i]; s.key != "" || s.index == 0 {
			b.WriteString("." + s.key)
		} else {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	return b.String()
}
