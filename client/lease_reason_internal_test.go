package client

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

func countKeepAliveReasons() int {
	n := 0
	keepAliveReasons.Range(func(_, _ any) bool { n++; return true })
	return n
}

// TestLeaseKeepAliveReasonsReleased checks that the close reasons of keepalive
// channels take no memory once the channels are dropped, and stay readable
// while they are held.
func TestLeaseKeepAliveReasonsReleased(t *testing.T) {
	held := errors.New("held")
	kept, _ := closedKeepAlive(held)
	const n = 200
	for i := 0; i < n; i++ {
		closedKeepAlive(errors.New("dropped"))
	}
	if got := countKeepAliveReasons(); got < n+1 {
		t.Fatalf("%d reasons registered, want at least %d", got, n+1)
	}
	for i := 0; i < 100 && countKeepAliveReasons() > 1; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	// Other tests of the package may hold channels of their own.
	if got := countKeepAliveReasons(); got > 1+10 {
		t.Fatalf("%d reasons left after the channels were dropped", got)
	}
	if err := KeepAliveError(kept); err != held {
		t.Fatalf("KeepAliveError of a held channel = %v, want %v", err, held)
	}
	runtime.KeepAlive(kept)
}
