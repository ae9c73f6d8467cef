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

// functions lists the function fields of t, recursing into sub-tables.
func functions(prefix string, t *lua.LTable, out map[string]bool) {
	t.ForEach(func(k, v lua.LValue) {
		name := prefix + "." + k.String()
		switch x := v.(type) {
		case *lua.LFunction:
			out[name] = true
		case *lua.LTable:
			functions(name, x, out)
		}
	})
}

func diff(t *testing.T, what string, impl, decl map[string]bool) {
	t.Helper()
	var missing, extra []string
	for k := range impl {
		if !decl[k] {
			missing = append(missing, k)
		}
	}
	for k := range decl {
		if !impl[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("%s: implemented but not declared in the definitions: %s", what, strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("%s: declared but not implemented: %s", what, strings.Join(extra, ", "))
	}
}

// TestEtcdDefinitionsMatchBindings keeps meta/etcd.lua in step with the etcd
// module: every function of the module is declared, and nothing else.
func TestEtcdDefinitionsMatchBindings(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rt := &luart.Runtime{Loop: luart.NewLoop()}
	defer rt.Loop.Close()
	mod := bindings.New(rt, bindings.Backend{})
	defer mod.Close()
	impl := map[string]bool{}
	functions("etcd", mod.Table(L), impl)
	decl := map[string]bool{}
	for k := range declared(t, "meta/etcd.lua") {
		if strings.HasPrefix(k, "etcd.") {
			decl[k] = true
		}
	}
	diff(t, "etcd", impl, decl)

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
	impl := map[string]bool{}
	for _, m := range stdlib.All() {
		if err := L.DoString(`return require("` + m.Name + `")`); err != nil {
			t.Fatal(err)
		}
		v := L.Get(-1)
		L.Pop(1)
		if tbl, ok := v.(*lua.LTable); ok {
			functions(m.Name, tbl, impl)
		}
	}
	decl := declared(t, "meta/stdlib.lua")
	for k := range decl {
		if strings.Contains(k, ":") {
			delete(decl, k)
		}
	}
	diff(t, "stdlib", impl, decl)
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
