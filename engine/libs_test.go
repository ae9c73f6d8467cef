package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/engine"
)

func TestPrintAndIoGoToTheWriters(t *testing.T) {
	o := mustRun(t, engine.Config{}, `
print("a", 1, nil, true, setmetatable({}, {__tostring = function() return "T" end}))
io.write("w", 2, "\n")
io.stdout:write("x"):write("y\n")
io.stderr:write("to stderr\n")
assert(io.type(io.stdout) == "file")
assert(tostring(io.stdout) == "file (stdout)")
assert(io.output() == io.stdout)
io.output(io.stderr)
io.write("redirected\n")
assert(io.stdout:flush() == io.stdout)
local ok, msg = io.stdout:close()
assert(ok == nil and msg == "cannot close standard file")
`)
	if want := "a\t1\tnil\ttrue\tT\nw2\nxy\n"; o.stdout != want {
		t.Errorf("stdout %q, want %q", o.stdout, want)
	}
	if want := "to stderr\nredirected\n"; o.stderr != want {
		t.Errorf("stderr %q, want %q", o.stderr, want)
	}
}

func TestIoReadsStdin(t *testing.T) {
	cfg := engine.Config{Stdin: strings.NewReader("first line\n42 7\nrest\nmore\n")}
	o := mustRun(t, cfg, `
assert(io.read() == "first line")
local a, b = io.read("*n", "*n")
assert(a == 42 and b == 7, tostring(a) .. " " .. tostring(b))
assert(io.read("*l") == "")
assert(io.stdin:read(2) == "re")
local lines = {}
for l in io.lines() do lines[#lines + 1] = l end
assert(#lines == 2 and lines[1] == "st" and lines[2] == "more", table.concat(lines, "|"))
assert(io.read() == nil)
assert(io.read("*a") == "")
`)
	_ = o
}

func TestNoStdinReadsEmpty(t *testing.T) {
	mustRun(t, engine.Config{}, `assert(io.read() == nil) assert(io.read("*a") == "")`)
}

func TestProcessWideFunctionsAreGone(t *testing.T) {
	for _, cfg := range []engine.Config{{}, {NoSandbox: true}} {
		mustRun(t, cfg, `
assert(collectgarbage == nil, "collectgarbage")
assert(_printregs == nil, "_printregs")
assert(os.setenv == nil, "os.setenv")
assert(os.setlocale == nil, "os.setlocale")
assert(channel == nil, "channel")
assert(type(os.time()) == "number" and type(os.clock()) == "number" and type(os.date()) == "string")
math.randomseed(7)
local a = {math.random(), math.random(10), math.random(5, 6)}
math.randomseed(7)
local b = {math.random(), math.random(10), math.random(5, 6)}
assert(a[1] == b[1] and a[2] == b[2] and a[3] == b[3], "randomseed does not repeat the sequence")
assert(a[2] >= 1 and a[2] <= 10 and a[3] >= 5 and a[3] <= 6)
`)
	}
}

// sandboxBlocked are calls a sandbox refuses with permission_denied.
var sandboxBlocked = []string{
	`io.open("/etc/hostname")`,
	`io.lines("/etc/hostname")`,
	`io.popen("echo hi")`,
	`io.tmpfile()`,
	`io.input("/etc/hostname")`,
	`io.output("/tmp/x")`,
	`os.execute("echo hi")`,
	`os.remove("/tmp/x")`,
	`os.rename("/tmp/x", "/tmp/y")`,
	`os.tmpname()`,
	`os.getenv("HOME")`,
	`loadfile("/etc/hostname")`,
	`dofile("/etc/hostname")`,
	`require("fs")`,
}

func TestSandboxBlocks(t *testing.T) {
	for _, call := range sandboxBlocked {
		t.Run(call, func(t *testing.T) {
			mustRun(t, engine.Config{}, `
local ok, err = pcall(function() return `+call+` end)
assert(not ok, "the call succeeded")
assert(type(err) == "userdata" and err.code == "permission_denied", tostring(err))
`)
		})
	}
}

func TestSandboxKeepsTheLanguage(t *testing.T) {
	mustRun(t, engine.Config{}, `
assert(load("return 1 + 1")() == 2)
assert(loadstring("return ...")(5) == 5)
assert(type(debug.traceback()) == "string")
assert(debug.getinfo(1).currentline)
assert(debug.getupvalue == nil and debug.setlocal == nil)
assert(require("env").get("HOME") == nil, "the environment leaks into a sandbox")
assert(require("json").encode({1}) == "[1]")
`)
}

func TestSandboxGetenvHook(t *testing.T) {
	cfg := engine.Config{Getenv: func(name string) (string, bool) {
		if name == "GREETING" {
			return "hello", true
		}
		return "", false
	}}
	mustRun(t, cfg, `
local env = require("env")
assert(env.get("GREETING") == "hello")
assert(env.get("HOME") == nil)
assert(not pcall(os.getenv, "GREETING"), "os.getenv works in a sandbox")
`)
}

func TestNoSandbox(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	chunk := filepath.Join(dir, "chunk.lua")
	if err := os.WriteFile(chunk, []byte("return ... or 'loaded'"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{NoSandbox: true, Getenv: func(name string) (string, bool) { return "v-" + name, true }}
	o := mustRun(t, cfg, `
local file, chunk = ...
local f = assert(io.open(file, "w"))
f:write("one\ntwo\n")
f:close()
local n = 0
for l in io.lines(file) do n = n + 1 end
assert(n == 2)
io.input(file)
assert(io.read() == "one")
io.input(io.stdin)
assert(io.type(assert(io.open(file))) == "file")
assert(os.rename(file, file .. ".2"))
assert(os.remove(file .. ".2"))
assert(type(os.tmpname()) == "string")
assert(os.getenv("X") == "v-X")
assert(require("env").get("Y") == "v-Y")
assert(os.execute("echo from-shell; echo err-shell >&2") == 0)
assert(os.execute("exit 3") == 3)
assert(loadfile(chunk)() == "loaded")
assert(dofile(chunk) == "loaded")
local ok, msg = loadfile(chunk .. ".missing")
assert(ok == nil and msg)
assert(require("fs").exists(chunk))
local p = io.popen("echo piped")
assert(p:read() == "piped")
p:close()
`, file, chunk)
	if !strings.Contains(o.stdout, "from-shell\n") || !strings.Contains(o.stderr, "err-shell\n") {
		t.Errorf("os.execute's output did not reach the writers: stdout %q stderr %q", o.stdout, o.stderr)
	}
}

func TestNoSandboxEnvironmentWithoutHook(t *testing.T) {
	t.Setenv("ENGINE_TEST_VAR", "present")
	mustRun(t, engine.Config{NoSandbox: true}, `assert(os.getenv("ENGINE_TEST_VAR") == "present")`)
}

func TestLoadfileReadsStdin(t *testing.T) {
	cfg := engine.Config{NoSandbox: true, Stdin: strings.NewReader("return 'from stdin'")}
	o := mustRun(t, cfg, `return loadfile()()`)
	if len(o.res.Values) != 1 || o.res.Values[0] != "from stdin" {
		t.Errorf("values %v", o.res.Values)
	}
}
