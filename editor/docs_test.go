package editor_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/migrate"
	"github.com/etcdscript/etcdscript/stdlib"
)

// luaReference is the reference users read; TestLuaReference keeps it in
// step with what scripts can call.
const luaReference = "../docs/lua.md"

// luaOwnMethods are methods of Lua's own values (strings, files) that the
// reference's examples use; they are not the project's to document.
var luaOwnMethods = map[string]bool{
	"byte": true, "find": true, "format": true, "gmatch": true, "gsub": true, "len": true,
	"lower": true, "match": true, "rep": true, "reverse": true, "sub": true, "upper": true,
	"read": true, "write": true, "lines": true, "seek": true, "flush": true, "setvbuf": true,
}

var (
	docCallRE   = regexp.MustCompile(`\b(etcd|json|yaml|base64|time|log|fs|env|strings|retry|progress|assert|migrate)((?:\.[a-z_]+)+)\s*[({]`)
	docMethodRE = regexp.MustCompile(`:([a-z_]+)\(`)
)

// colons writes method names as ":name".
func colons(names []string) []string {
	for i, n := range names {
		names[i] = ":" + n
	}
	return names
}

// scriptAPI lists every function scripts can call by name (the etcd
// module, the stdlib modules, the migrate module of test files) and the
// method names of every object they return.
//
// methods are those the reference must name; known adds the methods of
// client objects, which mirror the module's functions.
func scriptAPI(t *testing.T) (functions, methods, known map[string]bool) {
	L, rt, mod := etcdModule(t)
	impl := newAPI()
	members("etcd", mod.Table(L), impl)
	methods, known = map[string]bool{}, map[string]bool{}
	for kind, names := range mod.Methods(L) {
		for _, m := range names {
			known[m] = true
			// A client object's methods are the module's functions,
			// documented once as etcd.NAME.
			if kind == "etcd.client" && impl.functions["etcd."+m] {
				continue
			}
			methods[m] = true
		}
	}
	if err := stdlib.Preload(L, rt); err != nil {
		t.Fatal(err)
	}
	L.PreloadModule("migrate", migrate.LuaModule(migrate.ModuleConfig{}))
	names := []string{"migrate"}
	for _, m := range stdlib.All() {
		names = append(names, m.Name)
	}
	for _, name := range names {
		if err := L.DoString(`return require("` + name + `")`); err != nil {
			t.Fatal(err)
		}
		if tbl, ok := L.Get(-1).(*lua.LTable); ok {
			members(name, tbl, impl)
		}
		L.Pop(1)
	}
	L.Get(lua.RegistryIndex).(*lua.LTable).ForEach(func(k, v lua.LValue) {
		mt, ok := v.(*lua.LTable)
		if !ok || !strings.HasPrefix(k.String(), "etcdscript.") {
			return
		}
		if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok {
			idx.ForEach(func(name, fn lua.LValue) {
				if _, ok := fn.(*lua.LFunction); ok {
					methods[name.String()] = true
					known[name.String()] = true
				}
			})
		}
	})
	return impl.functions, methods, known
}

// TestLuaReference fails when a function or method scripts can call is
// missing from docs/lua.md, or when docs/lua.md calls one that does not
// exist.
func TestLuaReference(t *testing.T) {
	data, err := os.ReadFile(luaReference)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	functions, methods, known := scriptAPI(t)

	documented := map[string]bool{}
	for _, m := range docCallRE.FindAllStringSubmatch(doc, -1) {
		documented[m[1]+m[2]] = true
	}
	docMethods := map[string]bool{}
	for _, m := range docMethodRE.FindAllStringSubmatch(doc, -1) {
		docMethods[m[1]] = true
	}
	missing := append(without(functions, documented), colons(without(methods, docMethods))...)
	invented := append(without(documented, functions), colons(without(docMethods, known, luaOwnMethods))...)
	if len(missing) > 0 {
		t.Errorf("%s does not document: %s", luaReference, strings.Join(missing, ", "))
	}
	if len(invented) > 0 {
		t.Errorf("%s names what scripts cannot call: %s", luaReference, strings.Join(invented, ", "))
	}
}
