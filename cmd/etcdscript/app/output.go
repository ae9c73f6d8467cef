package app

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
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
	v, err := jsonSafe(out, hexStrings, "")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jsonSafe rewrites the strings of v (a value from engine.GoValue) as the
// -w json output wants them. path locates v for error messages.
func jsonSafe(v any, hexStrings bool, path string) (any, error) {
	switch x := v.(type) {
	case string:
		if hexStrings {
			return hex.EncodeToString([]byte(x)), nil
		}
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("-w json: the value at %s is not UTF-8 text: use --hex", where(path))
		}
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = jsonSafe(e, hexStrings, path+"["+strconv.Itoa(i+1)+"]"); err != nil {
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
					return nil, fmt.Errorf("-w json: a key in %s is not UTF-8 text: use --hex", where(path))
				}
				name = hex.EncodeToString([]byte(k))
			}
			e, err := jsonSafe(x[k], hexStrings, path+"."+name)
			if err != nil {
				return nil, err
			}
			out[name] = e
		}
		return out, nil
	}
	return v, nil
}

func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
