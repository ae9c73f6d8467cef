package stdlib_test

import (
	"testing"
)

func TestJSONEncode(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`json = require("json")`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string // a Lua expression
		opts  string // a Lua expression, or ""
		want  string // JSON, or "!" + code + ": " + message
	}{
		{"nil", `nil`, "", `null`},
		{"null", `json.null`, "", `null`},
		{"true", `true`, "", `true`},
		{"false", `false`, "", `false`},
		{"int", `42`, "", `42`},
		{"negative int", `-7`, "", `-7`},
		{"zero", `0`, "", `0`},
		{"negative zero", `-0.0`, "", `0`},
		{"float", `1.5`, "", `1.5`},
		{"tenth", `0.1`, "", `0.1`},
		{"2^53", `2^53`, "", `9007199254740992`},
		{"-2^53", `-2^53`, "", `-9007199254740992`},
		{"beyond 2^53", `2^53 * 4`, "", `36028797018963970`},
		{"big", `1e21`, "", `1e+21`},
		{"small", `1e-7`, "", `1e-7`},
		{"third", `1/3`, "", `0.3333333333333333`},
		{"string", `"hi"`, "", `"hi"`},
		{"escapes", `"a\"b\\c\n\t\r\b\f\1"`, "", `"a\"b\\c\n\t\r\b\f\u0001"`},
		{"slash kept", `"a/b"`, "", `"a/b"`},
		{"unicode", `"héllo ✓ 😀"`, "", `"héllo ✓ 😀"`},
		{"empty string", `""`, "", `""`},
		{"empty table", `{}`, "", `{}`},
		{"empty array", `json.array({})`, "", `[]`},
		{"new array", `json.array()`, "", `[]`},
		{"array", `{1, "two", true}`, "", `[1,"two",true]`},
		{"null inside array", `{1, json.null, 3}`, "", `[1,null,3]`},
		{"marked array with holes", `json.array({[1] = 1, [3] = 3})`, "", `[1,null,3]`},
		{"object sorted", `{b = 1, a = 2, c = {d = 3}}`, "", `{"a":2,"b":1,"c":{"d":3}}`},
		{"number keys as strings", `{[10] = "x", [2] = "y", name = "z"}`, "", `{"10":"x","2":"y","name":"z"}`},
		{"float key", `{[1.5] = "x"}`, "", `{"1.5":"x"}`},
		{"zero key is an object", `{[0] = "x"}`, "", `{"0":"x"}`},
		{"nested", `{a = {1, {b = {}}}, e = json.array({})}`, "", `{"a":[1,{"b":{}}],"e":[]}`},
		{"same table twice is no cycle", `(function() local s = {1} return {a = s, b = s, c = {s}} end)()`, "", `{"a":[1],"b":[1],"c":[[1]]}`},
		{"null in object", `{a = json.null}`, "", `{"a":null}`},
		{"indent number", `{a = {1, 2}, b = {}}`, `{indent = 2}`, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}"},
		{"indent string", `{a = 1}`, `{indent = "\t"}`, "{\n\t\"a\": 1\n}"},
		{"indent 0 is compact", `{a = 1}`, `{indent = 0}`, `{"a":1}`},
		{"insertion order", `(function() local t = {} t.z = 1 t.a = 2 t.m = 3 return t end)()`, `{sort_keys = false}`, `{"z":1,"a":2,"m":3}`},
		{"error object", `(function() local ok, e = pcall(json.decode, "x") return e end)()`, "",
			`{"code":"invalid_argument","message":"invalid JSON at line 1, column 1 (offset 0): unexpected 'x', expected a value","op":"json.decode","retryable":false}`},

		{"function", `{a = {1, 2, print}}`, "", `!invalid_argument: json.encode: unsupported value at $.a[3]: function`},
		{"nan", `{x = 0/0}`, "", `!invalid_argument: json.encode: unsupported value at $.x: NaN (JSON has no NaN or infinity)`},
		{"inf", `{1/0}`, "", `!invalid_argument: json.encode: unsupported value at $[1]: infinity (JSON has no NaN or infinity)`},
		{"sparse", `{[1] = 1, [3] = 3}`, "", `!invalid_argument: json.encode: unsupported value at $: sparse array (2 elements, largest index 3); mark it with json.array to write null for the holes`},
		{"bool key", `{a = {[true] = 1}}`, "", `!invalid_argument: json.encode: unsupported value at $.a: table with a boolean key`},
		{"table key", `{[{}] = 1}`, "", `!invalid_argument: json.encode: unsupported value at $: table with a table key`},
		{"odd key in path", `{["a b"] = {print}}`, "", `!invalid_argument: json.encode: unsupported value at $["a b"][1]: function`},
		{"cycle", `(function() local t = {} t.self = t return t end)()`, "", `!invalid_argument: json.encode: unsupported value at $.self: cycle (the table contains itself)`},
		{"deep cycle", `(function() local t = {a = {}} t.a.b = {t} return t end)()`, "", `!invalid_argument: json.encode: unsupported value at $.a.b[1]: cycle (the table contains itself)`},
		{"invalid utf8", `{k = "a\255b"}`, "", `!invalid_argument: json.encode: unsupported value at $.k: string is not valid UTF-8 (byte 2 of 3); encode binary data with base64 first`},
		{"duplicate key", `{[1] = "a", ["1"] = "b"}`, "", `!invalid_argument: json.encode: unsupported value at $: duplicate key "1" (a number key and a string key)`},
		{"marked array with string key", `json.array({1, x = 2})`, "", `!invalid_argument: json.encode: unsupported value at $: array with key "x"`},
		{"userdata", `{io.stdout}`, "", `!invalid_argument: json.encode: unsupported value at $[1]: userdata`},
		{"coroutine", `coroutine.create(print)`, "", `!invalid_argument: json.encode: unsupported value at $: thread`},

		{"unknown option", `1`, `{indnt = 2}`, `!invalid_argument: json.encode: bad argument #2 (opts): unknown option "indnt" (did you mean "indent"?)`},
		{"bad indent", `1`, `{indent = "xx"}`, `!invalid_argument: json.encode: bad argument #2 (opts.indent): indent must be spaces or tabs, got "xx"`},
		{"indent too big", `1`, `{indent = 99}`, `!invalid_argument: json.encode: bad argument #2 (opts.indent): indent must be 0 to 16 spaces, got 99`},
		{"indent type", `1`, `{indent = true}`, `!invalid_argument: json.encode: bad argument #2 (opts.indent): number or string expected, got boolean`},
		{"sort_keys type", `1`, `{sort_keys = 1}`, `!invalid_argument: json.encode: bad argument #2 (opts.sort_keys): boolean expected, got number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := "return json.encode(" + tt.value
			if tt.opts != "" {
				call += ", " + tt.opts
			}
			call += ")"
			if got := eval(t, L, call); got != tt.want {
				t.Errorf("json.encode(%s)\n got: %s\nwant: %s", tt.value, got, tt.want)
			}
		})
	}
	if got := eval(t, L, `return json.encode()`); got != `!invalid_argument: json.encode: bad argument #1 (value): value expected, got no value` {
		t.Errorf("json.encode() = %s", got)
	}
}

func TestJSONDecode(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`json = require("json")`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
		want  string // re-encoded compact, or "!" + code + ": " + message
	}{
		{"null", `null`, `null`},
		{"true", ` true `, `true`},
		{"int", `42`, `42`},
		{"negative", `-0.5`, `-0.5`},
		{"exponent", `1E3`, `1000`},
		{"exponent sign", `25e-1`, `2.5`},
		{"2^53", `9007199254740993`, `9007199254740992`},
		{"string", `"a\"\\\/\b\f\n\r\t"`, `"a\"\\/\b\f\n\r\t"`},
		{"unicode escape", `"\u00e9\u2713"`, `"é✓"`},
		{"surrogate pair", `"\ud83d\ude00"`, `"😀"`},
		{"raw unicode", `"héllo"`, `"héllo"`},
		{"empty array", `[]`, `[]`},
		{"empty object", `{}`, `{}`},
		{"null in array", `[1,null,3]`, `[1,null,3]`},
		{"nested", `{"a":[{"b":[]}],"c":{}}`, `{"a":[{"b":[]}],"c":{}}`},
		{"whitespace", " {\n\t\"a\" : [ 1 , 2 ] \r\n} ", `{"a":[1,2]}`},
		{"duplicate keys: last wins", `{"a":1,"a":2}`, `{"a":2}`},
		{"number-like key stays a string", `{"1":"x"}`, `{"1":"x"}`},
		{"bom", "\uFEFF[1]", `[1]`},

		{"empty", ``, `!invalid_argument: json.decode: invalid JSON at line 1, column 1 (offset 0): unexpected end of input, expected a value`},
		{"trailing", `[1] x`, `!invalid_argument: json.decode: invalid JSON at line 1, column 5 (offset 4): unexpected 'x' after the value`},
		{"trailing comma", `[1,]`, `!invalid_argument: json.decode: invalid JSON at line 1, column 4 (offset 3): unexpected ']', expected a value`},
		{"missing colon", "{\n  \"a\" 1}", `!invalid_argument: json.decode: invalid JSON at line 2, column 7 (offset 8): unexpected '1', expected ':' after the key`},
		{"unquoted key", `{a:1}`, `!invalid_argument: json.decode: invalid JSON at line 1, column 2 (offset 1): unexpected 'a', expected a string key`},
		{"missing comma", `[1 2]`, `!invalid_argument: json.decode: invalid JSON at line 1, column 4 (offset 3): unexpected '2', expected ',' or ']'`},
		{"unclosed", `{"a":1`, `!invalid_argument: json.decode: invalid JSON at line 1, column 7 (offset 6): unexpected end of input, expected ',' or '}'`},
		{"leading zero", `01`, `!invalid_argument: json.decode: invalid JSON at line 1, column 2 (offset 1): invalid number: leading zero`},
		{"bare dot", `1.`, `!invalid_argument: json.decode: invalid JSON at line 1, column 3 (offset 2): invalid number: expected a digit after '.'`},
		{"minus only", `-`, `!invalid_argument: json.decode: invalid JSON at line 1, column 2 (offset 1): invalid number: expected a digit`},
		{"out of range", `1e400`, `!invalid_argument: json.decode: invalid JSON at line 1, column 1 (offset 0): number 1e400 is out of range`},
		{"bad literal", `tru`, `!invalid_argument: json.decode: invalid JSON at line 1, column 1 (offset 0): invalid literal, expected true`},
		{"NaN", `NaN`, `!invalid_argument: json.decode: invalid JSON at line 1, column 1 (offset 0): unexpected 'N', expected a value`},
		{"single quotes", `'a'`, `!invalid_argument: json.decode: invalid JSON at line 1, column 1 (offset 0): unexpected '\'', expected a value`},
		{"control char", "\"a\nb\"", `!invalid_argument: json.decode: invalid JSON at line 1, column 3 (offset 2): control character in string (byte 0xa); write it escaped`},
		{"bad escape", `"\x"`, `!invalid_argument: json.decode: invalid JSON at line 1, column 2 (offset 1): invalid escape \x`},
		{"short unicode escape", `"\u12"`, `!invalid_argument: json.decode: invalid JSON at line 1, column 4 (offset 3): invalid \u escape: expected 4 hex digits`},
		{"lone surrogate", `"\ud800x"`, `!invalid_argument: json.decode: invalid JSON at line 1, column 8 (offset 7): invalid \u escape: lone surrogate (not a character)`},
		{"invalid utf8", "\"a\xffb\"", `!invalid_argument: json.decode: invalid JSON at line 1, column 3 (offset 2): invalid UTF-8 in string`},
		{"unterminated string", `"abc`, `!invalid_argument: json.decode: invalid JSON at line 1, column 5 (offset 4): unexpected end of input in string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L.SetGlobal("input", luaString(tt.input))
			if got := eval(t, L, `return json.encode(json.decode(input))`); got != tt.want {
				t.Errorf("decode(%q)\n got: %s\nwant: %s", tt.input, got, tt.want)
			}
		})
	}
}

func TestJSONDecodeShapes(t *testing.T) {
	rt, _ := newRuntime(t)
	L := newState(t, rt)
	if err := L.DoString(`
		local json = require("json")
		local t = json.decode("[1,null,3]")
		assert(#t == 3, "length " .. #t)
		assert(t[2] == json.null)
		assert(t[1] == 1 and t[3] == 3)
		local o = json.decode('{"a":null,"b":{"c":[true,false]}}')
		assert(o.a == json.null)
		assert(o.b.c[1] == true and o.b.c[2] == false)
		assert(json.decode("null") == json.null)
		assert(json.decode('"x"') == "x")
		assert(math.type == nil or true)
		assert(json.decode("12") == 12)
		local deep = string.rep("[", 1000) .. string.rep("]", 1000)
		assert(json.encode(json.decode(deep)) == deep)
		local ok, e = pcall(json.decode, string.rep("[", 1001) .. string.rep("]", 1001))
		assert(not ok and e.code == "invalid_argument" and e.message:find("deeper than 1000"), tostring(e))
	`); err != nil {
		t.Fatal(err)
	}
}
