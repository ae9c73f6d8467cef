package stdlib_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"

	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/stdlib"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer collects output written from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixedNow is the clock of tests that print times.
var fixedNow = time.Date(2024, 5, 1, 12, 30, 45, 123456789, time.UTC)

// newRuntime returns a runtime with buffered writers and a loop, closed with
// the test.
func newRuntime(t testing.TB) (*luart.Runtime, *lockedBuffer) {
	t.Helper()
	stderr := &lockedBuffer{}
	loop := luart.NewLoop()
	t.Cleanup(loop.Close)
	return &luart.Runtime{
		Ctx:    t.Context(),
		Stdout: &lockedBuffer{},
		Stderr: stderr,
		Loop:   loop,
		Now:    func() time.Time { return fixedNow },
		Getenv: func(name string) (string, bool) {
			if name == "ETCDSCRIPT_TEST" {
				return "yes", true
			}
			return "", false
		},
	}, stderr
}

// newState returns a state with the standard libraries and every stdlib
// module preloaded for rt.
func newState(t testing.TB, rt *luart.Runtime) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := stdlib.Preload(L, rt); err != nil {
		t.Fatal(err)
	}
	return L
}

// eval runs code (which must return one value) and returns it as a string,
// or "!" and the error text when it raises.
func eval(t testing.TB, L *lua.LState, code string) string {
	t.Helper()
	fn, err := L.LoadString(code)
	if err != nil {
		t.Fatalf("compiling %q: %v", code, err)
	}
	err = L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true})
	if err != nil {
		if e, ok := luart.FromError(err); ok {
			return "!" + e.Code + ": " + e.Error()
		}
		return "!" + err.Error()
	}
	v := L.Get(-1)
	L.Pop(1)
	return lua.LVAsString(L.ToStringMeta(v))
}
