package stdlib

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Module is one stdlib module: the name scripts require and the function
// that builds its loader for a run.
type Module struct {
	// Name is the argument of require, such as "json".
	Name string
	// Open returns the module's loader bound to rt.
	Open func(rt *luart.Runtime) lua.LGFunction
}

// All returns every stdlib module, in the order docs/lua.md lists them.
func All() []Module {
	return []Module{
		{"json", JSON},
		{"yaml", YAML},
		{"base64", Base64},
		{"time", Time},
		{"log", Log},
		{"fs", FS},
		{"env", Env},
		{"strings", Strings},
		{"retry", Retry},
		{"progress", Progress},
		{"assert", Assert},
	}
}

// Preload registers the named modules (all of them when names is empty) in
// L's package.preload, bound to rt, so that require finds them. An unknown
// name is an error and registers nothing.
func Preload(L *lua.LState, rt *luart.Runtime, names ...string) error {
	mods := All()
	if len(names) > 0 {
		picked := make([]Module, 0, len(names))
		for _, n := range names {
			m, ok := lookup(mods, n)
			if !ok {
				return fmt.Errorf("stdlib: no module %q", n)
			}
			picked = append(picked, m)
		}
		mods = picked
	}
	for _, m := range mods {
		L.PreloadModule(m.Name, m.Open(rt))
	}
	return nil
}

func lookup(mods []Module, name string) (Module, bool) {
	for _, m := range mods {
		if m.Name == name {
			return m, true
		}
	}
	return Module{}, false
}

// moduleTable builds a module's table from its functions.
func moduleTable(L *lua.LState, funcs map[string]lua.LGFunction) *lua.LTable {
	t := L.CreateTable(0, len(funcs))
	for name, fn := range funcs {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// loader wraps a function that builds a module table as a require loader.
func loader(build func(L *lua.LState) *lua.LTable) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(build(L))
		return 1
	}
}

// Options returns the names of the options each function of the stdlib
// takes in its options table, by the function's name ("json.encode").
// Tools that describe the API use it: the editor's definitions are tested
// against it.
func Options() map[string][]string {
	sets := map[string]*luart.OptionSet{
		"json.encode": jsonEncodeOptions, "yaml.encode": yamlEncodeOptions,
		"time.format": timeFormatOptions, "fs.write": fsWriteOptions, "retry.retry": retryOptions,
	}
	return luart.OptionNames(sets)
}
