package app

import (
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/engine"
)

func TestWriteValuesJSON(t *testing.T) {
	cases := []struct {
		values []any
		hex    bool
		want   string
		err    string
	}{
		{values: nil, want: "null\n"},
		{values: []any{"a"}, want: "\"a\"\n"},
		{values: []any{"a", int64(2)}, want: "[\"a\",2]\n"},
		{values: []any{map[string]any{"b": []any{"<x>", nil}, "a": true}}, want: "{\"a\":true,\"b\":[\"<x>\",null]}\n"},
		{values: []any{map[string]any{"k": "\xff"}}, err: "-w json: the value at .k is not UTF-8 text: use --hex"},
		{values: []any{[]any{"ok", "\x00\xff"}}, hex: true, want: "[\"6f6b\",\"00ff\"]\n"},
		{values: []any{"x", []any{"\xfe"}}, err: "-w json: the value at [2][1] is not UTF-8 text"},
		{values: []any{map[string]any{"\xff": "v"}}, err: "a key in the top level is not UTF-8 text"},
		{values: []any{map[string]any{"\xff": "v", "name": "n"}}, hex: true, want: "{\"ff\":\"76\",\"name\":\"6e\"}\n"},
	}
	for _, c := range cases {
		var b strings.Builder
		err := writeValuesJSON(&b, c.values, c.hex)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want %q", c.values, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.values, err)
		case c.err == "" && b.String() != c.want:
			t.Errorf("%q: got %q, want %q", c.values, b.String(), c.want)
		}
	}
}

func TestProblemAtEndOfFile(t *testing.T) {
	e, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, c := range []struct{ src, want string }{
		{"function f()\n  return 1\n", "x.lua:2: "},
		{"function f()\n  return 1", "x.lua:2: "},
		{"local t = {", "x.lua:1: "},
		{"a = = 1\n", "x.lua:1: "},
	} {
		_, err := e.RunString(t.Context(), "x.lua", c.src, nil)
		se, ok := engine.AsScriptError(err)
		if !ok || se.Kind != engine.KindSyntax {
			t.Fatalf("%q: %v", c.src, err)
		}
		if got := problem(se, "-", []byte(c.src)); !strings.HasPrefix(got, c.want) {
			t.Errorf("%q: %q, want the prefix %q", c.src, got, c.want)
		}
	}
}
