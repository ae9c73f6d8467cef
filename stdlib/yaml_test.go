package stdlib_test

import (
	"testing"
)

func TestYAMLEncode(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`yaml = require("yaml"); json = require("json")`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string
		opts  string
		want  string
	}{
		{"scalar", `42`, "", "42\n"},
		{"float", `1.5`, "", "1.5\n"},
		{"big float", `1e21`, "", "1e+21\n"},
		{"nan", `0/0`, "", ".nan\n"},
		{"inf", `-1/0`, "", "-.inf\n"},
		{"string", `"hello"`, "", "hello\n"},
		{"string that looks like a bool", `"true"`, "", "\"true\"\n"},
		{"string that looks like a number", `"123"`, "", "\"123\"\n"},
		{"nil", `nil`, "", "null\n"},
		{"null", `yaml.null`, "", "null\n"},
		{"empty table", `{}`, "", "{}\n"},
		{"empty array", `yaml.array()`, "", "[]\n"},
		{"json null is yaml null", `{json.null}`, "", "- null\n"},
		{"object sorted", `{b = 1, a = {x = true}}`, "", "a:\n  x: true\nb: 1\n"},
		{"array", `{1, "two", {3}}`, "", "- 1\n- two\n- - 3\n"},
		{"number keys stay numbers", `{[2] = "b", [10] = "a", name = "n"}`, "", "10: a\n2: b\nname: n\n"},
		{"multiline", `{s = "line1\nline2\n"}`, "", "s: |\n  line1\n  line2\n"},
		{"binary", `{v = "\255\0"}`, "", "v: !!binary /wA=\n"},
		{"control characters are text", `{v = "\0\1"}`, "", "v: \"\\0\\x01\"\n"},
		{"indent", `{a = {b = 1}}`, `{indent = 4}`, "a:\n    b: 1\n"},
		{"error object", `(function() local ok, e = pcall(yaml.decode, "a: [") return e end)()`, "",
			"code: invalid_argument\nmessage: 'line 1: did not find expected node content'\nop: yaml.decode\nretryable: false\n"},

		{"function", `{a = {print}}`, "", `!invalid_argument: yaml.encode: unsupported value at $.a[1]: function`},
		{"cycle", `(function() local t = {} t[1] = t return t end)()`, "", `!invalid_argument: yaml.encode: unsupported value at $[1]: cycle (the table contains itself)`},
		{"sparse", `{[2] = 1}`, "", `!invalid_argument: yaml.encode: unsupported value at $: sparse array (1 elements, largest index 2); mark it with json.array to write null for the holes`},
		{"bad indent", `1`, `{indent = 0}`, `!invalid_argument: yaml.encode: bad argument #2 (opts.indent): indent must be 1 to 16 spaces, got 0`},
		{"unknown option", `1`, `{sort = true}`, `!invalid_argument: yaml.encode: bad argument #2 (opts): unknown option "sort"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := "return yaml.encode(" + tt.value
			if tt.opts != "" {
				call += ", " + tt.opts
			}
			call += ")"
			if got := eval(t, L, call); got != tt.want {
				t.Errorf("yaml.encode(%s)\n got: %q\nwant: %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestYAMLDecode(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`yaml = require("yaml"); json = require("json")`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
		want  string // the first document as compact JSON, or an error
	}{
		{"mapping", "a: 1\nb: [x, y]\n", `{"a":1,"b":["x","y"]}`},
		{"types", "i: 0x1F\nf: 2.5\nb: yes\nt: true\nn: ~\ns: '007'\nd: 2001-12-14\n", `{"b":"yes","d":"2001-12-14","f":2.5,"i":31,"n":null,"s":"007","t":true}`},
		{"empty collections", "a: []\nb: {}\n", `{"a":[],"b":{}}`},
		{"null in sequence", "- 1\n- null\n- 3\n", `[1,null,3]`},
		{"anchors and aliases", "base: &b {x: 1}\nuse: *b\n", `{"base":{"x":1},"use":{"x":1}}`},
		{"merge keys", "base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n", `{"base":{"x":1,"y":2},"m":{"x":1,"y":3}}`},
		{"merge list", "a: &a {x: 1}\nb: &b {x: 2, z: 3}\nm:\n  <<: [*a, *b]\n", `{"a":{"x":1},"b":{"x":2,"z":3},"m":{"x":1,"z":3}}`},
		{"binary", "v: !!binary AAEC\n", `{"v":"\u0000\u0001\u0002"}`},
		{"int beyond int64", "n: 123456789012345678901234567890\n", `{"n":1.2345678901234568e+29}`},
		{"number keys", "1: a\n2: b\n", `["a","b"]`},
		{"empty document", "", `nil`},
		{"literal block", "s: |\n  a\n  b\n", `{"s":"a\nb\n"}`},

		{"syntax error", "a: [", `!invalid_argument: yaml.decode: line 1: did not find expected node content`},
		{"bad merge", "m:\n  <<: 1\n", `!invalid_argument: yaml.decode: line 2, column 7: a merge (<<) needs a mapping or a list of mappings`},
		{"collection key", "? [1]\n: x\n", `!invalid_argument: yaml.decode: line 1, column 3: unsupported mapping key (!!seq): keys are strings, numbers or booleans`},
		{"null key", "~: x\n", `!invalid_argument: yaml.decode: line 1, column 1: unsupported mapping key (!!null): keys are strings, numbers or booleans`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L.SetGlobal("input", luaString(tt.input))
			got := eval(t, L, `local v = yaml.decode(input) if v == nil then return "nil" end return json.encode(v)`)
			if got != tt.want {
				t.Errorf("decode(%q)\n got: %s\nwant: %s", tt.input, got, tt.want)
			}
		})
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`
		local yaml = require("yaml")
		local json = require("json")
		local v = {a = {1, yaml.null, 3}, b = yaml.array(), c = {}, d = "true", e = "\255\0", f = 1.5, g = {[1] = "x", [3] = "y", k = "z"}}
		local back = yaml.decode(yaml.encode(v))
		assert(back.a[2] == yaml.null and #back.a == 3)
		assert(back.d == "true" and back.e == "\255\0" and back.f == 1.5)
		assert(back.g[3] == "y" and back.g[1] == "x")
		assert(yaml.encode(back) == yaml.encode(v))
		local a, b, c = yaml.decode("--- 1\n--- two\n--- [3]\n")
		assert(a == 1 and b == "two" and c[1] == 3)
		assert(select("#", yaml.decode("")) == 0)
		assert(yaml.decode("null") == yaml.null)
	`); err != nil {
		t.Fatal(err)
	}
}

func TestYAMLAliasBomb(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	L.SetGlobal("input", luaString(bomb))
	got := eval(t, L, `return require("yaml").decode(input)`)
	if want := "!invalid_argument: yaml.decode: "; len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("alias bomb: %s", got)
	}
}
