package engine_test

import (
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
	"github.com/etcdscript/etcdscript/internal/luatest"
)

// withAssert gives scripts the assert module of internal/luatest, as
// require("assert").
func withAssert(cfg *engine.Config) {
	if cfg.Modules == nil {
		cfg.Modules = map[string]lua.LGFunction{}
	}
	cfg.Modules["assert"] = func(L *lua.LState) int {
		L.Push(luatest.Module(L))
		return 1
	}
}

// runLuaFiles runs every *.lua file of dir as its own subtest; each must
// finish with exit code 0.
func runLuaFiles(t *testing.T, dir string, opts func(t *testing.T) []enginetest.Option) {
	files, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Lua test files in %s (%v)", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".lua"), func(t *testing.T) {
			o := append(opts(t), enginetest.WithConfig(withAssert))
			enginetest.RunFile(t, file, o...).MustSucceed(t)
		})
	}
}

// TestLuaFiles runs the Lua tests of testdata, sandboxed and without etcd.
func TestLuaFiles(t *testing.T) {
	runLuaFiles(t, "testdata", func(*testing.T) []enginetest.Option {
		return []enginetest.Option{enginetest.WithoutEtcd()}
	})
}

// TestLuaFilesEtcd runs the Lua tests of testdata/etcd against the shared
// cluster; each gets a key prefix of its own as its argument.
func TestLuaFilesEtcd(t *testing.T) {
	runLuaFiles(t, filepath.Join("testdata", "etcd"), func(t *testing.T) []enginetest.Option {
		return []enginetest.Option{enginetest.WithCluster(sharedCluster(t)), enginetest.WithArgs(t.Name() + "/")}
	})
}
