package app

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParseConfig feeds fuzzed YAML to the config file parser. It must
// never panic; it must refuse what is not a mapping of settings to values
// (a null, a mapping, or a list holding anything but plain values); and
// what it accepts must be the document's values, one string per value.
//
//	go test ./cmd/etcdscript/app -run '^$' -fuzz '^FuzzParseConfig$' -fuzztime 30s
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"endpoints: [127.0.0.1:2379, 127.0.0.1:22379]\ndial-timeout: 2s\n",
		"endpoints: a:1,b:2\nlib: x,y\ncommand-timeout: 3\ninsecure-transport: true\n",
		"user: root\npassword: \"0123\"\n",
		"- a\n- b\n",
		"just a string",
		"",
		"~",
		"timeout:\n",
		"endpoints: {a: 1}\n",
		"endpoints: [{a: 1}]\n",
		"endpoints: [~, x]\n",
		"endpoints: [[a]]\n",
		"a: &x 1\nb: *x\n",
		"base: &b {user: u}\n<<: *b\n",
		"[a]: b\n",
		"a: 1\na: 2\n",
		"a: !!binary aGk=\n",
		"namespace: 2000-01-01\npassword: 1.50\nuser: 0x1F\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := parseConfig(data)
		var m map[string]any
		if yerr := yaml.Unmarshal(data, &m); yerr != nil {
			// Not a mapping with string keys: a list or a plain value must
			// be refused; anything else YAML cannot decode is no reference.
			var doc any
			if yaml.Unmarshal(data, &doc) == nil && err == nil {
				switch doc.(type) {
				case nil, map[string]any, map[any]any:
				default:
					t.Fatalf("accepted %q, which is not a mapping", data)
				}
			}
			return
		}
		bad := badConfigValue(m)
		if err != nil {
			if bad == "" {
				t.Fatalf("refused a mapping of plain values %q: %v", data, err)
			}
			return
		}
		if bad != "" {
			t.Fatalf("accepted %q, where %s", data, bad)
		}
		for k, vs := range out {
			v, ok := m[k]
			if !ok {
				t.Fatalf("%q: setting %q is not in the document %#v", data, k, m)
			}
			var want int
			switch x := v.(type) {
			case []any:
				want = len(x)
			case string:
				want = 1
				if k == flagEndpoints || k == flagLib {
					want = len(strings.Split(x, ","))
				}
				// The text itself, unless a tag may have turned it into
				// something else.
				if !bytes.Contains(data, []byte("!")) && strings.Join(vs, ",") != x {
					t.Fatalf("%q: %s = %q, the document says %q", data, k, vs, x)
				}
			default:
				want = 1
			}
			if len(vs) != want {
				t.Fatalf("%q: %s has %d values %q, want %d", data, k, len(vs), vs, want)
			}
		}
		for k, v := range m {
			if list, isList := v.([]any); isList && len(list) == 0 {
				continue
			}
			if _, ok := out[k]; !ok {
				t.Fatalf("%q: setting %q of the document is missing from %q", data, k, out)
			}
		}
	})
}

// badConfigValue names what makes a decoded config mapping unacceptable,
// or returns "" when it maps settings to values or lists of values.
func badConfigValue(m map[string]any) string {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			return k + " has no value"
		case map[string]any, map[any]any:
			return k + " is a mapping"
		case []any:
			for _, e := range x {
				switch e.(type) {
				case nil, map[string]any, map[any]any, []any:
					return k + " holds a null, a mapping or a list"
				}
			}
		}
	}
	return ""
}

// TestParseConfigKeepsText checks that values reach the flags as written:
// YAML would read 0123 as octal 83 and 1.50 as 1.5, which is not what a
// password or a namespace of those characters means.
func TestParseConfigKeepsText(t *testing.T) {
	out, err := parseConfig([]byte("password: 0123\nnamespace: 1.50\nuser: 0x1F\nendpoints: [010, 1e3]\ndial-timeout: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"password":     {"0123"},
		"namespace":    {"1.50"},
		"user":         {"0x1F"},
		"endpoints":    {"010", "1e3"},
		"dial-timeout": {"2"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %q, want %q", out, want)
	}
}

// FuzzHoistGlobalFlags reorders fuzzed argument lists (one argument per
// line). It must never panic, must keep the program name first and every
// argument exactly once, and must be done after one pass.
//
//	go test ./cmd/etcdscript/app -run '^$' -fuzz '^FuzzHoistGlobalFlags$' -fuzztime 30s
func FuzzHoistGlobalFlags(f *testing.F) {
	for _, seed := range []string{
		"run\nx.lua",
		"run\n--embedded\nx.lua",
		"run\n--endpoints\na:1\nx.lua\n--endpoints\nb",
		"--debug\nrun\n-w\njson\nx.lua\na\nb",
		"run\n--timeout=3s\n-\na",
		"version\n-w\njson",
		"run\n--\n--embedded",
		"--endpoints\na:1\nversion",
		"",
		"--endpoints",
		"run\n--endpoints",
		"completion\nbash\n--debug",
		"types\n--\n-w",
		"-w=json\n--user\nroot\nrun\n--sandbox\n--lib\n/x\n-\n--endpoints\ny",
		"nosuchcommand\n--debug\n--endpoints\nz",
	} {
		f.Add(seed)
	}
	app := newApp(Process{})
	f.Fuzz(func(t *testing.T, in string) {
		args := []string{"etcdscript"}
		if in != "" {
			args = append(args, strings.Split(in, "\n")...)
		}
		orig := slices.Clone(args)
		out := hoistGlobalFlags(app, args)
		if !reflect.DeepEqual(args, orig) {
			t.Fatalf("hoistGlobalFlags changed its input %q to %q", orig, args)
		}
		if len(out) != len(args) || out[0] != args[0] {
			t.Fatalf("%q became %q", args, out)
		}
		a, b := slices.Clone(args), slices.Clone(out)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("%q became %q: not the same arguments", args, out)
		}
		if again := hoistGlobalFlags(app, out); !slices.Equal(again, out) {
			t.Fatalf("%q became %q, then %q on a second pass", args, out, again)
		}
	})
}
