package engine

import (
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// fixPackage sets up require's search (docs/cli.md): modules in
// package.preload first (the etcd module and the host's Go modules, see
// Config.Modules), then files beside the script, then files on
// Config.LibPaths, then the stdlib. Lua files are compiled through the
// engine's cache.
//
// package.path shows the file search as patterns. A script outside a
// sandbox may change it and require follows; a sandboxed script may not
// widen its reach that way, so there the engine's own list is used.
func (r *run) fixPackage(L *lua.LState) {
	pkg := L.GetGlobal("package").(*lua.LTable)
	preload := pkg.RawGetString("loaders").(*lua.LTable).RawGetInt(1)
	loaders := L.CreateTable(3, 0)
	loaders.Append(preload)
	loaders.Append(L.NewFunction(r.fileLoader))
	loaders.Append(L.NewFunction(r.stdlibLoader))
	pkg.RawSetString("loaders", loaders)
	// require reads the loaders from the registry, not from package.
	L.G.Registry.RawSetString("_LOADERS", loaders)

	var patterns []string
	dirs := r.e.cfg.LibPaths
	if r.dir != "" {
		dirs = append([]string{r.dir}, dirs...)
	}
	for _, d := range dirs {
		patterns = append(patterns, filepath.Join(d, "?.lua"), filepath.Join(d, "?", "init.lua"))
	}
	r.initPath = strings.Join(patterns, ";")
	pkg.RawSetString("path", lua.LString(r.initPath))
	pkg.RawSetString("cpath", lua.LString(""))
}

// fileLoader finds a module among the files of package.path.
func (r *run) fileLoader(L *lua.LState) int {
	name := L.CheckString(1)
	if !validModuleName(name) {
		L.Push(lua.LString("no file for '" + name + "': not a module name"))
		return 1
	}
	path := r.initPath
	if !r.rt.Sandbox {
		if p, ok := L.GetField(L.GetGlobal("package"), "path").(lua.LString); ok {
			path = string(p)
		}
	}
	rel := strings.ReplaceAll(name, ".", string(filepath.Separator))
	var tried []string
	for _, pat := range strings.Split(path, ";") {
		if pat == "" {
			continue
		}
		file := strings.ReplaceAll(pat, "?", rel)
		if fi, err := os.Stat(file); err != nil || fi.IsDir() {
			tried = append(tried, "no file '"+file+"'")
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			L.RaiseError("error loading module '%s' from file '%s': %v", name, file, err)
		}
		p, err := r.e.chunks.compile(file, src)
		if err != nil {
			se := syntaxError(err)
			L.RaiseError("error loading module '%s' from file '%s':\n\t%s", name, file, se.Error())
		}
		L.Push(L.NewFunctionFromProto(p))
		return 1
	}
	L.Push(lua.LString(strings.Join(tried, "\n\t")))
	return 1
}

// stdlibLoader finds a module of the stdlib.
func (r *run) stdlibLoader(L *lua.LState) int {
	name := L.CheckString(1)
	if fn, ok := r.stdlib[name]; ok {
		L.Push(L.NewFunction(fn))
		return 1
	}
	L.Push(lua.LString("no module '" + name + "' in the stdlib"))
	return 1
}

// validModuleName accepts dotted names whose parts are not empty and hold
// no path separator, so that a module name cannot climb out of the search
// directories ("..", "a/../b", "/etc/x").
func validModuleName(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if part == "" || strings.ContainsAny(part, "/\\\x00") {
			return false
		}
	}
	return true
}
