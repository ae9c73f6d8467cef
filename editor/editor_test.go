package editor_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/editor"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/migrate"
	"github.com/etcdscript/etcdscript/stdlib"
	lua "github.com/yuin/gopher-lua"
)

var declRE = regexp.MustCompile(`(?m)^function ([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\(`)

// declared lists the functions a definition file declares, as "etcd.get",
// "etcd.lease.grant", "json.encode".
func declared(t *testing.T, name string) map[string]bool {
	t.Helper()
	data, err := editor.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range declRE.FindAllStringSubmatch(string(data), -1) {
		out[m[1]] = true
	}
	return out
}

var (
	classRE   = regexp.MustCompile(`^---@class ([A-Za-z_][\w.]*)`)
	localRE   = regexp.MustCompile(`^local ([A-Za-z_]\w*) = \{\}`)
	methodRE  = regexp.MustCompile(`^function ([A-Za-z_]\w*):([a-z_][a-z0-9_]*)\(`)
	fieldRE   = regexp.MustCompile(`^---@field (?:([a-z_][a-z0-9_]*)|\["([a-z_]+)"\])`)
	paramRE   = regexp.MustCompile(`^---@param ([A-Za-z_]\w*)\??\s+(.+?)(?:\s+#.*)?$`)
	funcRE    = regexp.MustCompile(`^function ([A-Za-z_][\w.]*)(?:[:]([a-z_]\w*))?\(`)
	constRE   = regexp.MustCompile(`([A-Z_]+) = "`)
	errorsTab = regexp.MustCompile(`(?s)\n(\w+\.errors) = \{(.*?)\n\}`)
)

// api is what a definition file declares, or what a module offers:
// functions ("etcd.get"), other fields of modules ("json.null",
// "etcd.errors.COMPACTED") and methods of object classes
// ("etcd.Lease:ttl").
type api struct {
	functions, fields, methods map[string]bool
	// params are the ---@param types of each declared function and
	// method, by the names above; classFields the ---@field names of
	// each class.
	params      map[string][]param
	classFields map[string][]string
}

type param struct{ name, typ string }

func newAPI() api {
	return api{functions: map[string]bool{}, fields: map[string]bool{}, methods: map[string]bool{},
		params: map[string][]param{}, classFields: map[string][]string{}}
}

// declaredAPI reads a definition file. Module fields are the ---@field
// lines of a module's own class (a class named without a dot, such as
// `---@class json`), and the constants of an errors table; methods are
// `function Var:name(` where `local Var = {}` follows a ---@class line.
func declaredAPI(t *testing.T, name string, modules map[string]bool) api {
	t.Helper()
	data, err := editor.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	out := newAPI()
	for k := range declared(t, name) {
		out.functions[k] = true
	}
	classOf := map[string]string{} // local variable -> class
	class := ""
	var params []param
	for _, line := range strings.Split(string(data), "\n") {
		if m := classRE.FindStringSubmatch(line); m != nil {
			class = m[1]
			continue
		}
		if m := fieldRE.FindStringSubmatch(line); m != nil && class != "" {
			field := m[1] + m[2]
			out.classFields[class] = append(out.classFields[class], field)
			if modules[class] {
				out.fields[class+"."+field] = true
			}
			continue
		}
		if m := paramRE.FindStringSubmatch(line); m != nil {
			params = append(params, param{m[1], m[2]})
			continue
		}
		if m := localRE.FindStringSubmatch(line); m != nil && class != "" {
			classOf[m[1]] = class
		}
		if m := methodRE.FindStringSubmatch(line); m != nil {
			c, ok := classOf[m[1]]
			if !ok {
				t.Errorf("%s: method %s:%s of a table declared without a class", name, m[1], m[2])
			}
			out.methods[c+":"+m[2]] = true
			out.params[c+":"+m[2]] = params
		} else if m := funcRE.FindStringSubmatch(line); m != nil {
			out.params[m[1]] = params
		}
		if !strings.HasPrefix(line, "---") {
			class = ""
			params = nil
		}
	}
	for _, m := range errorsTab.FindAllStringSubmatch(string(data), -1) {
		for _, c := range constRE.FindAllStringSubmatch(m[2], -1) {
			out.fields[m[1]+"."+c[1]] = true
		}
	}
	return out
}

// members lists the functions and other fields of t, recursing into
// sub-tables.
func members(prefix string, t *lua.LTable, out api) {
	t.ForEach(func(k, v lua.LValue) {
		name := prefix + "." + k.String()
		switch x := v.(type) {
		case *lua.LFunction:
			out.functions[name] = true
		case *lua.LTable:
			members(name, x, out)
		default:
			out.fields[name] = true
		}
	})
}

// className is the LuaLS class of an object kind: "etcd.lease" is
// etcd.Lease, "etcdscript.progress.bar" is progress.Bar; renamed holds the
// exceptions.
func className(kind string, renamed map[string]string) string {
	if c, ok := renamed[kind]; ok {
		return c
	}
	kind = strings.TrimPrefix(kind, "etcdscript.")
	i := strings.LastIndex(kind, ".") + 1
	return kind[:i] + strings.ToUpper(kind[i:i+1]) + kind[i+1:]
}

// optionNames returns the option names a ---@param type declares: the
// top-level keys of an inline table type, or the fields of a class, for
// each alternative of a union; classes lists the classes it used.
func optionNames(typ string, classFields map[string][]string) (names, classes []string) {
	for _, alt := range splitTop(typ, '|') {
		alt = strings.TrimSpace(alt)
		if strings.HasPrefix(alt, "{") && strings.HasSuffix(alt, "}") {
			for _, part := range splitTop(alt[1:len(alt)-1], ',') {
				key, _, ok := strings.Cut(part, ":")
				if !ok {
					continue
				}
				key = strings.TrimSuffix(strings.TrimSpace(key), "?")
				key = strings.TrimSuffix(strings.TrimPrefix(key, `["`), `"]`)
				names = append(names, key)
			}
		} else if fields, ok := classFields[alt]; ok {
			names = append(names, fields...)
			classes = append(classes, alt)
		}
	}
	return names, classes
}

// splitTop splits s at sep where it is not inside brackets.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '{', '<', '[':
			depth++
		case ')', '}', '>', ']':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// diffOptions checks the options table of each call against the
// definitions: every option a call takes is declared in the type of its
// last table-typed parameter, and an inline table type declares nothing
// else. A class shared by several calls (etcd.RangeOpts) must declare
// nothing that none of them takes.
func diffOptions(t *testing.T, what string, impl map[string][]string, decl api, declName func(string) string) {
	t.Helper()
	shared := map[string]map[string]bool{} // class -> options some user takes
	for call, opts := range impl {
		params, ok := decl.params[declName(call)]
		if !ok {
			t.Errorf("%s: %s takes options but is not declared", what, call)
			continue
		}
		var declared, classes []string
		for _, p := range params {
			if names, cs := optionNames(p.typ, decl.classFields); len(names) > 0 {
				declared, classes = names, cs
			}
		}
		want, have := map[string]bool{}, map[string]bool{}
		for _, o := range opts {
			want[o] = true
		}
		for _, o := range declared {
			have[o] = true
		}
		if len(classes) > 0 {
			for _, c := range classes {
				if shared[c] == nil {
					shared[c] = map[string]bool{}
				}
				for o := range want {
					shared[c][o] = true
				}
			}
			for o := range have {
				delete(have, o)
				if want[o] {
					have[o] = true
				}
			}
			for o := range want {
				if !have[o] {
					t.Errorf("%s: %s takes option %q, not declared", what, call, o)
				}
			}
			continue
		}
		diff(t, what+" options of "+call, want, have)
	}
	for c, takes := range shared {
		for _, f := range decl.classFields[c] {
			if !takes[f] {
				t.Errorf("%s: %s declares %q, which no call takes", what, c, f)
			}
		}
	}
}

// diffAPI compares what a module offers with what its definitions declare.
func diffAPI(t *testing.T, what string, impl, decl api) {
	t.Helper()
	diff(t, what+" functions", impl.functions, decl.functions)
	diff(t, what+" fields", impl.fields, decl.fields)
	diff(t, what+" methods", impl.methods, decl.methods)
}

// without returns the keys of a that are not in any of bs, sorted.
func without(a map[string]bool, bs ...map[string]bool) []string {
	var out []string
	for k := range a {
		in := false
		for _, b := range bs {
			in = in || b[k]
		}
		if !in {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func diff(t *testing.T, what string, impl, decl map[string]bool) {
	t.Helper()
	missing, extra := without(impl, decl), without(decl, impl)
	if len(missing) > 0 {
		t.Errorf("%s: implemented but not declared in the definitions: %s", what, strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("%s: declared but not implemented: %s", what, strings.Join(extra, ", "))
	}
}

// etcdModule returns a Lua state with a runtime and the etcd module of a
// run with no cluster, closed when the test ends.
func etcdModule(t *testing.T) (*lua.LState, *luart.Runtime, *bindings.Module) {
	L := lua.NewState()
	rt := &luart.Runtime{Loop: luart.NewLoop()}
	mod := bindings.New(rt, bindings.Backend{})
	t.Cleanup(func() {
		mod.Close()
		rt.Loop.Close()
		L.Close()
	})
	return L, rt, mod
}

// TestEtcdDefinitionsMatchBindings keeps meta/etcd.lua in step with the etcd
// module: every function of the module is declared, and nothing else.
func TestEtcdDefinitionsMatchBindings(t *testing.T) {
	L, _, mod := etcdModule(t)
	impl := newAPI()
	members("etcd", mod.Table(L), impl)
	renamed := map[string]string{"etcd.cmp": "etcd.Compare", "etcd.scan": "etcd.ScanIterator"}
	for kind, names := range mod.Methods(L) {
		for _, m := range names {
			impl.methods[className(kind, renamed)+":"+m] = true
		}
	}
	decl := declaredAPI(t, "meta/etcd.lua", map[string]bool{"etcd": true})
	for k := range decl.functions {
		if !strings.HasPrefix(k, "etcd.") {
			delete(decl.functions, k)
		}
	}
	diffAPI(t, "etcd", impl, decl)
	diffOptions(t, "etcd", bindings.Options(), decl, func(call string) string {
		if kind, m, ok := strings.Cut(call, ":"); ok {
			return className(kind, renamed) + ":" + m
		}
		return call
	})

	// The error codes are declared as constants.
	data, _ := editor.Read("meta/etcd.lua")
	for _, code := range luart.Codes() {
		if !strings.Contains(string(data), `"`+code+`"`) {
			t.Errorf("error code %q is not in the definitions", code)
		}
	}
}

// TestStdlibDefinitionsMatchModules does the same for the stdlib modules.
func TestStdlibDefinitionsMatchModules(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rt := &luart.Runtime{Loop: luart.NewLoop()}
	defer rt.Loop.Close()
	if err := stdlib.Preload(L, rt); err != nil {
		t.Fatal(err)
	}
	impl := newAPI()
	modules := map[string]bool{}
	for _, m := range stdlib.All() {
		modules[m.Name] = true
		if err := L.DoString(`return require("` + m.Name + `")`); err != nil {
			t.Fatal(err)
		}
		v := L.Get(-1)
		L.Pop(1)
		if tbl, ok := v.(*lua.LTable); ok {
			members(m.Name, tbl, impl)
		}
	}
	// The objects of the modules: metatables registered by name.
	L.Get(lua.RegistryIndex).(*lua.LTable).ForEach(func(k, v lua.LValue) {
		mt, ok := v.(*lua.LTable)
		if !ok || !strings.HasPrefix(k.String(), "etcdscript.") {
			return
		}
		if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok {
			idx.ForEach(func(name, fn lua.LValue) {
				if _, ok := fn.(*lua.LFunction); ok {
					impl.methods[className(k.String(), nil)+":"+name.String()] = true
				}
			})
		}
	})
	// The migrate module of test files, and their test global, which
	// etcdscript test defines.
	L.PreloadModule("migrate", migrate.LuaModule(migrate.ModuleConfig{}))
	if err := L.DoString(`return require("migrate")`); err != nil {
		t.Fatal(err)
	}
	modules["migrate"] = true
	members("migrate", L.Get(-1).(*lua.LTable), impl)
	L.Pop(1)
	impl.functions["test"] = true
	decl := declaredAPI(t, "meta/stdlib.lua", modules)
	diffAPI(t, "stdlib", impl, decl)
	diffOptions(t, "stdlib", stdlib.Options(), decl, func(call string) string { return call })
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	written, err := editor.Write(dir)
	if err != nil || len(written) != 3 {
		t.Fatalf("Write: %v %v", written, err)
	}
	// An edited .luarc.json is kept.
	if err := os.WriteFile(filepath.Join(dir, ".luarc.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, err = editor.Write(dir)
	if err != nil || len(written) != 2 {
		t.Fatalf("second Write: %v %v", written, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".luarc.json")); string(b) != "{}" {
		t.Error(".luarc.json was overwritten")
	}
}
