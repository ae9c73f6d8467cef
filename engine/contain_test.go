package engine_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/luart"
)

// containTimeout is the Timeout of the runs below, and containBound how
// long such a run may take in all: a built-in may overrun the deadline by
// 100 ms (LUA_API.md section 4); the rest of the bound is for a loaded
// machine. Before the built-ins checked the deadline, each of these runs
// took from 6 s to forever.
const (
	containTimeout = time.Second
	containBound   = 6 * time.Second
)

// testModules are Go functions the scripts below call: a comparator that
// takes its time, and strings whose comparisons do (a Lua comparator is
// interrupted by the VM, < on strings only by the sort).
var testModules = map[string]lua.LGFunction{
	"slowless": func(L *lua.LState) int {
		L.Push(L.NewFunction(func(L *lua.LState) int {
			time.Sleep(50 * time.Microsecond)
			L.Push(lua.LBool(L.CheckNumber(1) < L.CheckNumber(2)))
			return 1
		}))
		return 1
	},
	// slowstrings(n) is n strings of 1 MB that any two of compare only
	// after most of their bytes (windows on one long string, so making
	// them costs nothing): sorting them takes long in Go alone.
	"slowstrings": func(L *lua.LState) int {
		L.Push(L.NewFunction(func(L *lua.LState) int {
			const size = 1 << 20
			n := L.CheckInt(1)
			tail := make([]byte, n)
			for i := range tail {
				tail[i] = 'b' + byte(i*7%25)
			}
			long := strings.Repeat("a", size) + string(tail)
			t := L.CreateTable(n, 0)
			for i := 1; i <= n; i++ {
				j := (i * 7919) % n // a permutation: n is not a multiple of 7919
				t.RawSetInt(i, lua.LString(long[j:j+size]))
			}
			L.Push(t)
			return 1
		}))
		return 1
	},
}

// heldOpenStdin is a Stdin that never has data and never ends, until the
// test is over.
func heldOpenStdin(t *testing.T) io.Reader {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	return pr
}

// runBounded runs src under cfg with containTimeout and returns what the
// run gave and how long it took; the run must end within containBound.
func runBounded(t *testing.T, cfg engine.Config, ctx context.Context, src string) (outcome, time.Duration) {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = containTimeout
	}
	cfg.Modules = testModules
	e, stdout, stderr := newEngine(t, cfg)
	type result struct {
		res *engine.Result
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		res, err := e.RunString(ctx, "test.lua", src, nil)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		took := time.Since(start)
		if took > containBound {
			t.Errorf("the run took %v, want at most %v", took, containBound)
		}
		return outcome{res: r.res, err: r.err, stdout: stdout.String(), stderr: stderr.String()}, took
	case <-time.After(30 * time.Second):
		t.Fatalf("the run had not ended 30 s after it started (timeout %v)", cfg.Timeout)
	}
	return outcome{}, 0
}

// containCases are built-ins that ran past the run's deadline, with the
// configuration they need.
var containCases = []struct {
	name string
	cfg  engine.Config
	src  string
}{
	{"find backtracking", engine.Config{}, `string.find(string.rep("a", 60), string.rep("a-", 12) .. "b")`},
	{"find quadratic", engine.Config{}, `string.find(string.rep("a", 1e6), ".-b")`},
	{"match", engine.Config{}, `string.match(string.rep("a", 60), string.rep("a-", 12) .. "b")`},
	{"gmatch", engine.Config{}, `for m in string.gmatch(string.rep("a", 60), string.rep("a-", 12) .. "b") do end`},
	{"gsub", engine.Config{}, `string.gsub(string.rep("a", 60), string.rep("a-", 12) .. "b", "x")`},
	{"method call", engine.Config{}, `local s = string.rep("a", 60) s:find(string.rep("a-", 12) .. "b")`},
	{"pcall", engine.Config{}, `pcall(string.find, string.rep("a", 60), string.rep("a-", 12) .. "b") while true do end`},
	{"sort comparator in Go", engine.Config{}, `
		local t = {} for i = 1, 200000 do t[i] = (i * 7919) % 200003 end
		table.sort(t, require("slowless"))`},
	{"sort", engine.Config{}, `table.sort(require("slowstrings")(50000))`},
	{"io.read", engine.Config{}, `io.read()`},
	{"io.read all", engine.Config{}, `io.read("*a")`},
	{"io.lines", engine.Config{}, `for l in io.lines() do end`},
	{"io.popen read", engine.Config{NoSandbox: true}, `io.popen("sleep 20"):read("*a")`},
	{"io.popen read grandchild", engine.Config{NoSandbox: true}, `io.popen("sh -c 'sleep 20; echo x'; echo y"):read("*a")`},
	{"io.popen write", engine.Config{NoSandbox: true}, `io.popen("sleep 20", "w"):write(string.rep("x", 1e6))`},
	{"io.popen close", engine.Config{NoSandbox: true}, `io.popen("sleep 20"):close()`},
	{"os.execute", engine.Config{NoSandbox: true}, `os.execute("sleep 20")`},
	{"os.execute grandchild", engine.Config{NoSandbox: true}, `os.execute("sh -c 'sleep 20'; echo done")`},
}

// TestBuiltinsEndAtTimeout: a host's run with Timeout 1s ends within the
// bound, as a timeout, whatever long built-in it is in.
func TestBuiltinsEndAtTimeout(t *testing.T) {
	for _, c := range containCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := c.cfg
			cfg.Stdin = heldOpenStdin(t)
			o, took := runBounded(t, cfg, context.Background(), c.src)
			se := o.scriptErr(t)
			if se.Kind != engine.KindTimeout || o.res.ExitCode != engine.ExitTimeout || se.Code != luart.CodeScriptTimeout {
				t.Fatalf("kind %q exit %d code %q (%v)", se.Kind, o.res.ExitCode, se.Code, se)
			}
			if !errors.Is(o.err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) is false: %v", o.err)
			}
			if took < containTimeout {
				t.Errorf("the run ended after %v, before its timeout: it did not get to the built-in (%v)", took, o.err)
			}
		})
	}
}

// TestBuiltinsEndOnCancel: the host's cancel (the CLI's SIGINT) ends them
// the same way, as an interrupt.
func TestBuiltinsEndOnCancel(t *testing.T) {
	for _, c := range containCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := c.cfg
			cfg.Stdin = heldOpenStdin(t)
			cfg.Timeout = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(500*time.Millisecond, cancel)
			o, _ := runBounded(t, cfg, ctx, c.src)
			se := o.scriptErr(t)
			if se.Kind != engine.KindCanceled || o.res.ExitCode != engine.ExitInterrupted || !errors.Is(o.err, context.Canceled) {
				t.Fatalf("kind %q exit %d (%v)", se.Kind, o.res.ExitCode, se)
			}
		})
	}
}

// TestTimeoutRaisesInsideTheScript: the built-in raises the timeout as an
// error object where it was called, so the uncaught error names that line.
func TestTimeoutRaisesInsideTheScript(t *testing.T) {
	cfg := engine.Config{Stdin: heldOpenStdin(t)}
	o, _ := runBounded(t, cfg, context.Background(), "local x = 1\nlocal ok, err = pcall(io.read)\nprint(err.code, err.op)\n")
	if se := o.scriptErr(t); se.Line != 2 && se.Line != 3 {
		t.Errorf("error at line %d: %v", se.Line, se)
	}
}

// TestStdinAfterATimeout: what a read abandoned at the timeout brings is
// not lost: the engine's next run reads it.
func TestStdinAfterATimeout(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	e, stdout, _ := newEngine(t, engine.Config{Stdin: pr, Timeout: 300 * time.Millisecond})
	res, _ := e.RunString(context.Background(), "first", "io.read()", nil)
	if res.ExitCode != engine.ExitTimeout {
		t.Fatalf("first run: exit %d, want a timeout", res.ExitCode)
	}
	go pw.Write([]byte("line one\nline two\n"))
	if _, err := e.RunString(context.Background(), "second", "print(io.read()) print(io.read())", nil); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if got := stdout.String(); got != "line one\nline two\n" {
		t.Errorf("second run printed %q", got)
	}
}

// TestCommandGroupKilled: at the timeout os.execute kills the command's
// whole process group, children of the shell included.
func TestCommandGroupKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	cfg := engine.Config{NoSandbox: true, Timeout: 500 * time.Millisecond}
	src := `os.execute("sleep 30 & echo $! > ` + pidFile + `; wait")`
	o, _ := runBounded(t, cfg, context.Background(), src)
	if o.res.ExitCode != engine.ExitTimeout {
		t.Fatalf("exit %d (%v)", o.res.ExitCode, o.err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the shell's child %d is still running after the run ended", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is not a zombie (a killed
// process whose new parent has not reaped it yet is dead enough).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// TestPopen: io.popen reads and writes a command's pipes, and close
// reports its status.
func TestPopen(t *testing.T) {
	o := mustRun(t, engine.Config{NoSandbox: true}, `
local p = io.popen("printf 'a\nb\n'; exit 3")
assert(io.type(p) == "file")
local lines = {}
for l in p:lines() do lines[#lines + 1] = l end
assert(#lines == 2 and lines[2] == "b", #lines)
local ok, how, code = p:close()
assert(ok == nil and how == "exit" and code == 3, tostring(code))
assert(io.type(p) == "closed file")
assert(tostring(p) == "file (closed)")
assert(not pcall(p.read, p))
local w = io.popen("tr a-z A-Z", "w")
w:write("shout\n")
assert(w:close() == true)
assert(io.popen("true"):read("*a") == "")
`)
	if o.stdout != "SHOUT\n" {
		t.Errorf("stdout %q", o.stdout)
	}
}

// TestReadCountIsNotAllocated: io.read(n) takes memory for what it reads,
// not for n.
func TestReadCountIsNotAllocated(t *testing.T) {
	o := mustRun(t, engine.Config{Stdin: strings.NewReader("abc")}, `return io.read(1e15)`)
	if len(o.res.Values) != 1 || o.res.Values[0] != "abc" {
		t.Errorf("values %v", o.res.Values)
	}
}
