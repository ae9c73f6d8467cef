package stdlib

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

var fsWriteOptions = luart.NewOptionSet("append")

// FS is the fs module, for files on the host (off under --sandbox):
//
//	fs.read(path) -> string
//	fs.write(path, s [, {append = true}])   creates or truncates, mode 0644
//	fs.lines(path) -> iterator over the lines, without their line ending
//	fs.exists(path) -> bool
//	fs.glob(pattern) -> sorted array of paths
//
// Relative paths are relative to the process's working directory. lines
// reads the file as it iterates, so files of any size fit; it strips "\n"
// and a "\r" before it, and closes the file at the end (a loop left early
// leaves the file to the garbage collector). glob takes filepath.Match
// patterns (*, ?, [a-z]; no **). I/O failures raise an error object whose
// message is the operating system's, naming the path.
//
// Under a sandbox, require("fs") raises an error with code
// permission_denied.
func FS(rt *luart.Runtime) lua.LGFunction {
	if rt.Sandbox {
		return func(L *lua.LState) int {
			luart.Raise(L, &luart.Error{
				Code:    luart.CodePermissionDenied,
				Op:      "require",
				Message: `module "fs" is off in a sandboxed run (--sandbox): scripts there reach nothing but etcd`,
			})
			return 0
		}
	}
	return loader(func(L *lua.LState) *lua.LTable {
		return moduleTable(L, map[string]lua.LGFunction{
			"read":   func(L *lua.LState) int { return fsRead(rt, L) },
			"write":  func(L *lua.LState) int { return fsWrite(rt, L) },
			"lines":  func(L *lua.LState) int { return fsLines(rt, L) },
			"exists": func(L *lua.LState) int { return fsExists(rt, L) },
			"glob":   fsGlob,
		})
	})
}

func fsRead(rt *luart.Runtime, L *lua.LState) int {
	path := luart.Args{L: L, Fn: "fs.read"}.String(1, "path")
	b, err := os.ReadFile(path)
	if err != nil {
		luart.Raise(L, rt.NewError("fs.read", "", err))
	}
	L.Push(lua.LString(b))
	return 1
}

func fsWrite(rt *luart.Runtime, L *lua.LState) int {
	a := luart.Args{L: L, Fn: "fs.write"}
	path := a.String(1, "path")
	data := a.String(2, "s")
	o := a.Options(3, "opts", fsWriteOptions)
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if o.Bool("append", false) {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err == nil {
		_, err = io.WriteString(f, data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		luart.Raise(L, rt.NewError("fs.write", "", err))
	}
	return 0
}

func fsLines(rt *luart.Runtime, L *lua.LState) int {
	path := luart.Args{L: L, Fn: "fs.lines"}.String(1, "path")
	f, err := os.Open(path)
	if err != nil {
		luart.Raise(L, rt.NewError("fs.lines", "", err))
	}
	r := bufio.NewReaderSize(f, 64*1024)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if f == nil {
			L.Push(lua.LNil)
			return 1
		}
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			f = nil
			luart.Raise(L, rt.NewError("fs.lines", "", err))
		}
		if errors.Is(err, io.EOF) {
			f.Close()
			f = nil
			if line == "" {
				L.Push(lua.LNil)
				return 1
			}
		}
		line = strings.TrimSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\r")
		L.Push(lua.LString(line))
		return 1
	}))
	return 1
}

func fsExists(rt *luart.Runtime, L *lua.LState) int {
	path := luart.Args{L: L, Fn: "fs.exists"}.String(1, "path")
	_, err := os.Stat(path)
	switch {
	case err == nil:
		L.Push(lua.LTrue)
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		L.Push(lua.LFalse)
	default:
		// Permission denied and the like: neither yes nor no is true.
		luart.Raise(L, rt.NewError("fs.exists", "", err))
	}
	return 1
}

func fsGlob(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "fs.glob"}
	pattern := a.String(1, "pattern")
	matches, err := filepath.Glob(pattern)
	if err != nil {
		a.Fail(1, "pattern", "invalid pattern %q: %v", pattern, err)
	}
	sort.Strings(matches)
	t := luart.NewArray(L, len(matches))
	for i, m := range matches {
		t.RawSetInt(i+1, lua.LString(m))
	}
	L.Push(t)
	return 1
}
