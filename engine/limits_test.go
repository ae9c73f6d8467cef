package engine_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/luart"
)

// bombBudget is the budget of the memory tests: small, so that a memory
// bomb stopped late still leaves the test process (and the machine) safe.
const bombBudget = 64 << 20

// wantMemoryLimit checks that a run ended over its budget: exit code 13,
// code memory_limit, errors.Is luart.ErrMemoryLimit.
func wantMemoryLimit(t *testing.T, o outcome) *engine.ScriptError {
	t.Helper()
	se := o.scriptErr(t)
	if se.Kind != engine.KindMemory || o.res.ExitCode != engine.ExitMemory || se.Code != luart.CodeMemoryLimit {
		t.Fatalf("kind %q exit %d code %q (%v), want a memory limit", se.Kind, o.res.ExitCode, se.Code, se)
	}
	if !errors.Is(o.err, luart.ErrMemoryLimit) {
		t.Errorf("errors.Is(err, luart.ErrMemoryLimit) is false for %v", o.err)
	}
	if strings.Contains(se.Backtrace(), "goroutine") || strings.Contains(se.Backtrace(), ".go:") {
		t.Errorf("a Go stack reaches the user:\n%s", se.Backtrace())
	}
	return se
}

// TestMemoryBombs: each way a script can grow memory without bound ends
// its run with memory_limit, and the host goes on (each was a Go fatal
// error that ended the test process).
func TestMemoryBombs(t *testing.T) {
	for name, src := range map[string]string{
		"table of strings": `local t = {} while true do t[#t + 1] = string.rep("x", 2^20) end`,
		"table of concats": `local t = {} local s = string.rep("x", 4000) while true do t[#t + 1] = s .. #t end`,
		"concat":           `local s = "x" while true do s = s .. s end`,
		"string.rep":       `local s = string.rep("x", 2^33) print(#s)`,
		"string.rep 2^62":  `print(pcall(string.rep, "x", 2^62))`,
		"unpack":           `local t = {} for i = 1, 2e5 do t[i] = i end while true do t = {t, unpack(t)} end`,
		"caught by pcall":  `while true do pcall(string.rep, "x", 2^40) end`,
		"coroutines":       `local function co() return coroutine.wrap(co)() end co()`,
		"strings.join":     `local t = {} for i = 1, 1e5 do t[i] = "" end print(#require("strings").join(t, string.rep(",", 2^20)))`,
		"strings.split":    `print(#require("strings").split(string.rep("x", 2^22), ""))`,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			o := runString(t, engine.Config{MaxMemory: bombBudget, Timeout: 50 * time.Second}, src)
			se := wantMemoryLimit(t, o)
			t.Logf("%v after %v", se, time.Since(start).Round(time.Millisecond))
			if strings.Contains(o.stdout, "after") {
				t.Error("the script went on after the memory limit")
			}
		})
	}
}

// TestMemoryLimitNotCaught: pcall gets the error object, but the script
// cannot go on.
func TestMemoryLimitNotCaught(t *testing.T) {
	o := runString(t, engine.Config{MaxMemory: bombBudget}, `
local ok, err = pcall(string.rep, "x", 2^40)
print("after", ok, err.code)`)
	se := wantMemoryLimit(t, o)
	if strings.Contains(o.stdout, "after") {
		t.Errorf("pcall caught the memory limit: %q", o.stdout)
	}
	if se.File != "test.lua" || !strings.Contains(se.Message, "string.rep: memory limit: a string of 1TiB") {
		t.Errorf("error %v does not name the request", se)
	}
}

// TestIOReadHuge: io.read(n) reads what there is, not n bytes up front
// (pcall(io.read, 2^40) was a Go fatal "out of memory"); on an endless
// input the budget stops it.
func TestIOReadHuge(t *testing.T) {
	o := mustRun(t, engine.Config{Stdin: strings.NewReader("hello")}, `
local ok, s = pcall(io.read, 2^40)
print(ok, s)`)
	if o.stdout != "true\thello\n" {
		t.Errorf("stdout %q", o.stdout)
	}
	for _, src := range []string{`print(pcall(io.read, 2^40))`, `print(#io.read("*a"))`} {
		o = runString(t, engine.Config{MaxMemory: bombBudget, Stdin: zeros{}}, src)
		se := wantMemoryLimit(t, o)
		if !strings.Contains(se.Message, "io.read") {
			t.Errorf("%s: message %q does not name io.read", src, se.Message)
		}
	}
	o = mustRun(t, engine.Config{Stdin: strings.NewReader(strings.Repeat("x", 300000))}, `print(#io.read("*a"), io.read("*a"), io.read(1))`)
	if o.stdout != "300000\t\tnil\n" {
		t.Errorf("stdout %q", o.stdout)
	}
}

// zeros is an endless input.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestBombBesideOtherRun: a run that goes over its budget ends; another
// run of the same engine, started before it and still going, completes.
func TestBombBesideOtherRun(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{MaxMemory: bombBudget, Timeout: 30 * time.Second})
	ctx := context.Background()
	var wg sync.WaitGroup
	var calm *engine.Result
	var calmErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		calm, calmErr = e.RunString(ctx, "calm.lua", `
local n = 0
for i = 1, 40 do
  local t = {}
  for j = 1, 100 do t[j] = tostring(j) end
  n = n + #table.concat(t)
  require("time").sleep(0.025)
end
return n`, nil)
	}()
	// The calm run is older: start the bomb once it runs.
	time.Sleep(100 * time.Millisecond)
	res, err := e.RunString(ctx, "bomb.lua", `local t = {} while true do t[#t + 1] = string.rep("x", 2^20) end`, nil)
	if res.ExitCode != engine.ExitMemory || !errors.Is(err, luart.ErrMemoryLimit) {
		t.Errorf("bomb: exit %d, error %v; want a memory limit", res.ExitCode, err)
	}
	wg.Wait()
	if calmErr != nil || calm.ExitCode != 0 || len(calm.Values) != 1 || calm.Values[0] != int64(40*192) {
		t.Fatalf("calm run: %+v, %v", calm, calmErr)
	}
}

// TestDeepReturn: a main chunk returning a table nested 6,000,000 deep
// ended a Go host (goroutine stack over 1 GB in GoValue). Under the
// default budget the nesting itself is over it; with no budget the
// conversion refuses more than MaxValueDepth levels.
func TestDeepReturn(t *testing.T) {
	deep := func(n int) string {
		return `local t = {} local n = t for i = 1, ` + strconv.Itoa(n) + ` do local x = {} n[1] = x n = x end return t`
	}
	o := runString(t, engine.Config{Timeout: 60 * time.Second}, deep(6000000))
	if se := o.scriptErr(t); !errors.Is(o.err, luart.ErrMemoryLimit) && !errors.Is(o.err, engine.ErrValueTooDeep) {
		t.Fatalf("6,000,000 deep: %v (exit %d), want a memory limit or a depth error", se, o.res.ExitCode)
	}
	o = runString(t, engine.Config{MaxMemory: -1}, deep(100000))
	se := o.scriptErr(t)
	if !errors.Is(o.err, engine.ErrValueTooDeep) || o.res.ExitCode != engine.ExitError || se.Code != luart.CodeInvalidArgument {
		t.Fatalf("100,000 deep: %v (exit %d, code %q), want a depth error", se, o.res.ExitCode, se.Code)
	}
	if !strings.Contains(se.Message, "nested more than 1000 levels deep") {
		t.Errorf("message %q", se.Message)
	}
	// Up to the limit, values come back whole.
	o = mustRun(t, engine.Config{}, deep(engine.MaxValueDepth-1))
	v := o.res.Values[0]
	for i := 0; i < engine.MaxValueDepth-1; i++ {
		a, ok := v.([]any)
		if !ok || len(a) != 1 {
			t.Fatalf("level %d: %#v", i, v)
		}
		v = a[0]
	}
}

// TestGoValueTooDeep: GoValue, which has no error, cuts a value at
// MaxValueDepth.
func TestGoValueTooDeep(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	top := L.NewTable()
	n := top
	for i := 0; i < 5000; i++ {
		x := L.NewTable()
		n.RawSetInt(1, x)
		n = x
	}
	v := engine.GoValue(top)
	for i := 0; i < engine.MaxValueDepth; i++ {
		v = v.([]any)[0]
	}
	if v != "<too deep>" {
		t.Errorf("at depth %d: %#v, want \"<too deep>\"", engine.MaxValueDepth, v)
	}
	if _, err := engine.GoValueContext(context.Background(), top); !errors.Is(err, engine.ErrValueTooDeep) {
		t.Errorf("GoValueContext: %v, want ErrValueTooDeep", err)
	}
}

// TestBuiltinsStopAtDeadline: a built-in working on a large value stops
// at the run's deadline, not when it is done.
func TestBuiltinsStopAtDeadline(t *testing.T) {
	for name, src := range map[string]string{
		"table.concat": `local t = {} for i = 1, 64 do t[i] = string.rep("x", 2^20) end
			while true do local s = table.concat(t, ",") end`,
		"string.rep":    `while true do local s = string.rep("ab", 2^25) end`,
		"string.format": `local s = string.rep("x", 2^24) while true do local f = string.format("%s%s%s%s", s, s, s, s) end`,
		"unpack":        `local t = {} for i = 1, 1e6 do t[i] = i end while true do local n = select("#", unpack(t)) end`,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			o := runString(t, engine.Config{MaxMemory: -1, Timeout: 500 * time.Millisecond}, src)
			took := time.Since(start)
			if se := o.scriptErr(t); se.Kind != engine.KindTimeout {
				t.Fatalf("kind %q (%v), want a timeout", se.Kind, se)
			}
			// Loose: the machine is shared; a built-in that ignored the
			// deadline would not notice it at all.
			if took > 5*time.Second {
				t.Errorf("the run took %v for a 500ms timeout", took)
			}
		})
	}
}

// TestOSDateHuge: os.date refuses a format whose result could go over the
// budget before it expands it, and a long expansion ends at the deadline
// from inside os.date (gopher-lua's os.date did neither).
func TestOSDateHuge(t *testing.T) {
	o := runString(t, engine.Config{MaxMemory: bombBudget}, `print(#os.date(string.rep("%c", 2^22)))`)
	if se := wantMemoryLimit(t, o); !strings.Contains(se.Message, "os.date: memory limit: a date string of 96MiB") {
		t.Errorf("error %v does not name os.date's request", se)
	}
	// A second leaves string.rep time to make the format, even under the
	// race detector on a loaded machine; the expansion takes far longer.
	o = runString(t, engine.Config{MaxMemory: -1, Timeout: time.Second}, `print(#os.date(string.rep("%c", 2^23)))`)
	if se := o.scriptErr(t); se.Kind != engine.KindTimeout || !strings.Contains(se.Traceback, "in function 'date'") {
		t.Errorf("got %q (%v), want a timeout inside os.date; traceback:\n%s", se.Kind, se, se.Traceback)
	}
}

// TestSessionMemoryLimit: a chunk of a session has a budget of its own;
// over it, the chunk ends with memory_limit and the session goes on.
func TestSessionMemoryLimit(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{MaxMemory: bombBudget})
	s, err := e.NewSession("repl", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	_, err = s.Eval(ctx, `local t = {} while true do t[#t + 1] = string.rep("x", 2^20) end`)
	if se, ok := engine.AsScriptError(err); !ok || se.Kind != engine.KindMemory || !errors.Is(err, luart.ErrMemoryLimit) {
		t.Fatalf("Eval: %v, want a memory limit", err)
	}
	res, err := s.Eval(ctx, `return 1 + 1`)
	if err != nil || len(res.Values) != 1 || res.Values[0] != int64(2) {
		t.Fatalf("the session did not go on: %+v, %v", res, err)
	}
}

// TestDeepSyntax: a chunk nested a million deep overflowed the Go stack in
// the compiler (a fatal error); it is a syntax error now, for load and for
// the script itself.
func TestDeepSyntax(t *testing.T) {
	o := mustRun(t, engine.Config{}, `
local n = 100000
for _, src in ipairs({
  "return " .. string.rep("{", n) .. string.rep("}", n),
  "return " .. string.rep("not ", n) .. "1",
  string.rep("do ", 2000) .. string.rep("end ", 2000),
}) do
  local f, err = load(src)
  print(f, err:match("too many syntax levels") ~= nil)
end
print(load("return " .. string.rep("{", 200) .. string.rep("}", 200)) ~= nil, load("return " .. string.rep("-", 900) .. "1") ~= nil)`)
	if o.stdout != "nil\ttrue\nnil\ttrue\nnil\ttrue\ntrue\ttrue\n" {
		t.Errorf("stdout %q", o.stdout)
	}
	src := "return " + strings.Repeat("{", 5000) + strings.Repeat("}", 5000)
	o = runString(t, engine.Config{}, src)
	if se := o.scriptErr(t); se.Kind != engine.KindSyntax || !strings.Contains(se.Message, "too many syntax levels") {
		t.Errorf("%v (kind %q)", se, se.Kind)
	}
}
