package luatest

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// fileTimeout bounds one test file, so a test that waits forever fails
// instead of hanging the whole go test run.
const fileTimeout = 2 * time.Minute

// Run runs one Lua test file in L, with the assert module and the test
// function installed, and fails t when the file raises an error.
func Run(t *testing.T, L *lua.LState, file string) {
	t.Helper()
	if err := exec(t, L, file); err != nil {
		t.Fatal(Describe(err))
	}
}

// exec installs the test environment and runs file, returning its error.
func exec(t *testing.T, L *lua.LState, file string) error {
	Install(L)
	L.SetGlobal("test", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		fn := L.CheckFunction(2)
		t.Run(name, func(t *testing.T) {
			L.Push(fn)
			if err := luart.PCall(L, 0, 0); err != nil {
				t.Error(Describe(err))
			}
		})
		return 0
	}))
	return L.DoFile(file)
}

// RunDir runs every *.lua file of dir, in name order, each as a subtest
// named after the file, in a fresh state with the standard libraries and a
// deadline. setup (which may be nil) prepares the state first, typically by
// preloading the modules under test.
func RunDir(t *testing.T, dir string, setup func(t *testing.T, L *lua.LState)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	if err != nil {
		t.Fatalf("luatest: listing %s: %v", dir, err)
	}
	if len(files) == 0 {
		t.Fatalf("luatest: no *.lua files in %s", dir)
	}
	sort.Strings(files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".lua")
		t.Run(name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
			defer cancel()
			L.SetContext(ctx)
			if setup != nil {
				setup(t, L)
			}
			Run(t, L, file)
		})
	}
}

// Describe formats an error returned by a Lua call for a test report: an
// error object as its position and text, other values as Lua prints them,
// followed by the Lua traceback when there is one.
func Describe(err error) string {
	ae, ok := err.(*lua.ApiError)
	if !ok {
		return err.Error()
	}
	var b strings.Builder
	if e, ok := luart.FromValue(ae.Object); ok {
		b.WriteString(e.Where)
		if e.Where != "" {
			b.WriteByte(' ')
		}
		b.WriteString(e.Error())
		b.WriteString(" [code ")
		b.WriteString(e.Code)
		b.WriteString("]")
	} else if ae.Object != nil {
		b.WriteString(ae.Object.String())
	} else {
		b.WriteString(err.Error())
	}
	if ae.StackTrace != "" {
		b.WriteByte('\n')
		b.WriteString(ae.StackTrace)
	}
	return b.String()
}
