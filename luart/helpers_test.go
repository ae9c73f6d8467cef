package luart_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// newState returns a state with the standard libraries, closed with the test.
func newState(t testing.TB) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	return L
}

// run runs a chunk and fails the test on error.
func run(t testing.TB, L *lua.LState, code string) {
	t.Helper()
	if err := L.DoString(code); err != nil {
		t.Fatalf("lua: %v", err)
	}
}
