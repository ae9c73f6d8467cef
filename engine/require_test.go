package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/engine"
)

func TestRequireOrder(t *testing.T) {
	script := writeFiles(t, map[string]string{
		"main.lua":         `return require("beside"), require("shared"), require("json") == "local json", require("pkg.sub"), require("pkg"), require("gomod"), require("strings").trim("  x  ")`,
		"beside.lua":       `return "beside"`,
		"shared.lua":       `return "shared from beside"`,
		"json.lua":         `return "local json"`,
		"pkg/sub.lua":      `return "pkg.sub " .. ...`,
		"pkg/init.lua":     `return "pkg init"`,
		"gomod.lua":        `return "file, not the Go module"`,
		"lib1/shared.lua":  `return "shared from lib1"`,
		"lib1/onlylib.lua": `return "lib1"`,
	})
	lib2 := writeFiles(t, map[string]string{"onlylib.lua": `return "lib2"`, "lib2only.lua": `return "lib2only"`})
	cfg := engine.Config{
		LibPaths: []string{filepath.Join(script, "lib1"), lib2},
		Modules: map[string]lua.LGFunction{"gomod": func(L *lua.LState) int {
			L.Push(lua.LString("go module"))
			return 1
		}},
	}
	e, _, _ := newEngine(t, cfg)
	res, err := e.RunFile(context.Background(), filepath.Join(script, "main.lua"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"beside", "shared from beside", true, "pkg.sub pkg.sub", "pkg init", "go module", "x"}
	for i, w := range want {
		if i >= len(res.Values) || res.Values[i] != w {
			t.Fatalf("values %v, want %v", res.Values, want)
		}
	}

	// LibPaths in order, after the script's directory.
	res, err = e.RunString(context.Background(), "s", `return require("onlylib"), require("lib2only")`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Values[0] != "lib1" || res.Values[1] != "lib2only" {
		t.Errorf("values %v", res.Values)
	}
}

func TestRequireNotFound(t *testing.T) {
	lib := t.TempDir()
	o := runString(t, engine.Config{LibPaths: []string{lib}}, `require("nowhere")`)
	se := o.scriptErr(t)
	for _, want := range []string{"module nowhere not found", filepath.Join(lib, "nowhere.lua"), "no module 'nowhere' in the stdlib"} {
		if !strings.Contains(se.Message, want) {
			t.Errorf("message %q lacks %q", se.Message, want)
		}
	}
}

func TestRequireRefusesPaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{"lib/ok.lua": "return 1", "secret.lua": "return 'secret'"})
	cfg := engine.Config{LibPaths: []string{filepath.Join(dir, "lib")}}
	for _, name := range []string{"..secret", "../secret", "a/../../secret", "/etc/passwd", ""} {
		o := runString(t, cfg, `return require(...)`, name)
		if o.err == nil {
			t.Errorf("require(%q) succeeded: %v", name, o.res.Values)
		}
	}
}

func TestRequireSyntaxErrorInModule(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.lua": "require('broken')", "broken.lua": "x = = 1"})
	e, _, _ := newEngine(t, engine.Config{})
	_, err := e.RunFile(context.Background(), filepath.Join(dir, "main.lua"), nil)
	se, ok := engine.AsScriptError(err)
	if !ok || !strings.Contains(se.Message, "error loading module 'broken'") || !strings.Contains(se.Message, "broken.lua:1:") {
		t.Fatalf("error %v", err)
	}
}

func TestRequirePackagePath(t *testing.T) {
	dir := writeFiles(t, map[string]string{"elsewhere/m.lua": `return "m"`})
	pat := filepath.Join(dir, "elsewhere", "?.lua")
	// Outside a sandbox package.path is the script's to change ...
	mustRun(t, engine.Config{NoSandbox: true}, `package.path = ... assert(require("m") == "m")`, pat)
	// ... in a sandbox it does not widen the search.
	o := runString(t, engine.Config{}, `package.path = ... return require("m")`, pat)
	if o.err == nil {
		t.Error("a sandboxed script widened require's search through package.path")
	}
}
