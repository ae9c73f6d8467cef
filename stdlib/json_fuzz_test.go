package stdlib_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/stdlib"
)

// FuzzJSON checks the decoder against encoding/json and the round trip:
// whatever decodes must encode, and encoding is a fixed point from there.
func FuzzJSON(f *testing.F) {
	for _, seed := range []string{
		`null`, `true`, `0`, `-1.5e-7`, `9007199254740993`, `"a\u00e9\ud83d\ude00\n"`,
		`[]`, `{}`, `[1,null,3]`, `{"a":[{"b":{}}],"c":""}`, `{"1":1,"a":2}`,
		` [ 1 , [ 2 , [ 3 ] ] ] `, `{"a":1,"a":2}`, `[1e308, -0, 0.1]`, `"\u0000"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		v, err := stdlib.DecodeJSON(L, input)
		if err != nil {
			if utf8.ValidString(input) && !strings.Contains(input, `\u`) && !strings.Contains(err.Error(), "deeper") && !strings.Contains(err.Error(), "out of range") &&
				!strings.HasPrefix(input, "\uFEFF") && json.Valid([]byte(input)) {
				t.Fatalf("decode refused valid JSON %q: %v", input, err)
			}
			return
		}
		if !strings.HasPrefix(input, "\uFEFF") && !json.Valid([]byte(input)) {
			t.Fatalf("decode accepted invalid JSON %q", input)
		}
		first, err := stdlib.EncodeJSON(v, "", true)
		if err != nil {
			t.Fatalf("decoded value of %q does not encode: %v", input, err)
		}
		if !json.Valid(first) {
			t.Fatalf("encode wrote invalid JSON %q", first)
		}
		v2, err := stdlib.DecodeJSON(L, string(first))
		if err != nil {
			t.Fatalf("encoded %q does not decode: %v", first, err)
		}
		second, err := stdlib.EncodeJSON(v2, "", true)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip differs:\n%s\n%s", first, second)
		}
		indented, err := stdlib.EncodeJSON(v, "  ", true)
		if err != nil || !json.Valid(indented) {
			t.Fatalf("indented encode: %v %q", err, indented)
		}
	})
}
