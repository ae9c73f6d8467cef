package luart_test

import (
	"testing"

	"github.com/etcdscript/etcdscript/luart"
	lua "github.com/yuin/gopher-lua"
)

func TestRender(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	opts := luart.RenderOptions{Depth: 2, Items: 3}
	cases := []struct{ src, want string }{
		{`return "a\nb"`, `"a\nb"`},
		{`return 12`, `12`},
		{`return {}`, `{}`},
		{`return {1, 2, 3}`, `{1, 2, 3}`},
		{`return {1, 2, 3, 4}`, `{1, 2, 3, ...}`},
		{`return {b = 1, a = "x"}`, `{a = "x", b = 1}`},
		{`return {[10] = 1, [2] = 2}`, `{[2] = 2, [10] = 1}`},
		{`return {["not ident"] = true}`, `{["not ident"] = true}`},
		{`return {a = {b = {c = 1}}}`, `{a = {b = {...}}}`},
		{`local t = {}; t.self = t; return t`, `{self = <cycle>}`},
	}
	for _, c := range cases {
		if err := L.DoString(c.src); err != nil {
			t.Fatal(err)
		}
		got := luart.Render(L.Get(-1), opts)
		L.Pop(1)
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.src, got, c.want)
		}
	}
	other := luart.RenderOptions{Depth: 1, Items: 1, Other: func(lua.LValue) string { return "X" }}
	if got := luart.Render(lua.LTrue, other); got != "X" {
		t.Errorf("Other: got %s", got)
	}
}
