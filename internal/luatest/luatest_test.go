package luatest

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

func TestRunDir(t *testing.T) {
	var setups int
	RunDir(t, "testdata/pass", func(t *testing.T, L *lua.LState) { setups++ })
	if setups != 1 {
		t.Errorf("setup ran %d times for one file", setups)
	}
}

func TestFailuresNameTheLine(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"testdata/fail/eq.lua", []string{
			"testdata/fail/eq.lua:3: assert.eq failed: expected {a = 1, b = {2, 4}}, got {a = 1, b = {2, 3}} (the note)",
		}},
		{"testdata/fail/error_none.lua", []string{"testdata/fail/error_none.lua:1: assert.error failed: expected an error, got none"}},
		{"testdata/fail/error_mismatch.lua", []string{`testdata/fail/error_mismatch.lua:1: assert.error failed: expected an error matching "wanted", got "`, `other"`}},
		{"testdata/fail/syntax.lua", []string{"syntax.lua"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			err := exec(t, L, tt.file)
			if err == nil {
				t.Fatal("no failure")
			}
			msg := Describe(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("failure\n%s\nlacks %q", msg, w)
				}
			}
		})
	}
}

func TestErrorObjectsMatchByCode(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	Install(L)
	L.SetGlobal("raise", L.NewFunction(func(L *lua.LState) int {
		luart.Raise(L, &luart.Error{Code: luart.CodeCompacted, Op: "etcd.watch", Message: "required revision has been compacted"})
		return 0
	}))
	err := L.DoString(`
		local e = assert.error(raise, "compacted")
		assert.eq(e.code, "compacted")
		assert.error(raise, "etcd.watch: required")
		assert.error(raise, "^etcd%.watch")
		assert.error(function() assert.error(raise, "unavailable") end, "expected an error matching")
		assert.eq(e, e)
	`)
	if err != nil {
		t.Fatal(Describe(err))
	}
	L.SetGlobal("raise2", L.NewFunction(func(L *lua.LState) int {
		luart.Raise(L, &luart.Error{Code: luart.CodeInternal, Op: "x", Message: "y"})
		return 0
	}))
	err = L.DoString("local a = 1\nraise2()")
	if got := Describe(err); !strings.HasPrefix(got, "<string>:2: x: y [code internal]") {
		t.Errorf("Describe = %q", got)
	}
}

// TestRender checks how assertion failures show values: strings quoted,
// tables as constructors with sorted keys, cut at a modest depth.
func TestRender(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	Install(L)
	tests := []struct {
		expr string
		want string
	}{
		{`{1, 2, x = "a", [10] = true, ["odd key"] = 1}`, `{1, 2, [10] = true, ["odd key"] = 1, x = "a"}`},
		{`{{{{{1}}}}}`, `{{{{{...}}}}}`},
		{`"q\""`, `"q\""`},
		{`1.5`, `1.5`},
		{`nil`, `nil`},
	}
	for _, tt := range tests {
		err := L.DoString("assert.eq(" + tt.expr + ", false)")
		if err == nil || !strings.Contains(err.Error(), "expected false, got "+tt.want) {
			t.Errorf("assert.eq(%s, false): %v, want it to show %s", tt.expr, err, tt.want)
		}
	}
}
