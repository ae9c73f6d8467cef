package luart_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// appendTo returns a callback that appends i to the Lua global list.
func appendTo(i int) luart.Callback {
	return func(L *lua.LState) error {
		list := L.GetGlobal("list").(*lua.LTable)
		list.Append(lua.LNumber(i))
		return nil
	}
}

func TestLoopPostFromGoroutines(t *testing.T) {
	L := newState(t)
	L.SetGlobal("list", L.NewTable())
	loop := luart.NewLoopSize(8) // small, so producers block and wait
	defer loop.Close()
	const producers, each = 4, 200
	var wg sync.WaitGroup
	for p := range producers {
		release := loop.Hold()
		wg.Go(func() {
			defer release()
			for i := range each {
				if !loop.Post(context.Background(), appendTo(p*each+i)) {
					t.Error("Post refused on an open loop")
					return
				}
			}
		})
	}
	if err := loop.Run(context.Background(), L, -1); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != producers*each {
		t.Fatalf("dispatched %d callbacks, want %d", n, producers*each)
	}
	// Each producer's callbacks arrive in the order it posted them.
	last := map[int]int{}
	L.GetGlobal("list").(*lua.LTable).ForEach(func(_, v lua.LValue) {
		n := int(v.(lua.LNumber))
		p := n / each
		if prev, ok := last[p]; ok && prev > n {
			t.Errorf("producer %d: %d after %d", p, n, prev)
		}
		last[p] = n
	})
}

func TestLoopRunEndsWhenNoHoldLeft(t *testing.T) {
	L := newState(t)
	loop := luart.NewLoop()
	defer loop.Close()
	// Nothing held, nothing queued: returns at once.
	if err := loop.Run(context.Background(), L, -1); err != nil {
		t.Fatal(err)
	}
	release := loop.Hold()
	if loop.Active() != 1 {
		t.Fatalf("Active = %d", loop.Active())
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		release()
		release() // a second release is a no-op
	}()
	start := time.Now()
	if err := loop.Run(context.Background(), L, -1); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 15*time.Millisecond {
		t.Error("Run returned before the hold was released")
	}
	if loop.Active() != 0 {
		t.Fatalf("Active = %d after release", loop.Active())
	}
}

func TestLoopRunDrainsQueuedAfterRelease(t *testing.T) {
	L := newState(t)
	L.SetGlobal("list", L.NewTable())
	loop := luart.NewLoop()
	defer loop.Close()
	release := loop.Hold()
	loop.Post(context.Background(), appendTo(1))
	loop.Post(context.Background(), appendTo(2))
	release()
	if err := loop.Run(context.Background(), L, -1); err != nil {
		t.Fatal(err)
	}
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != 2 {
		t.Fatalf("dispatched %d, want 2: the last events of a source are not lost", n)
	}
}

func TestLoopRunDuration(t *testing.T) {
	L := newState(t)
	L.SetGlobal("list", L.NewTable())
	loop := luart.NewLoop()
	defer loop.Close()
	loop.Hold() // never released: only the duration ends Run
	go func() {
		time.Sleep(10 * time.Millisecond)
		loop.Post(context.Background(), appendTo(1))
	}()
	start := time.Now()
	if err := loop.Run(context.Background(), L, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 45*time.Millisecond || d > 2*time.Second {
		t.Errorf("Run(50ms) took %v", d)
	}
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != 1 {
		t.Errorf("dispatched %d while sleeping, want 1", n)
	}
	// d == 0 runs what is queued and returns.
	loop.Post(context.Background(), appendTo(2))
	if err := loop.Run(context.Background(), L, 0); err != nil {
		t.Fatal(err)
	}
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != 2 {
		t.Errorf("Run(0) left work queued")
	}
}

func TestLoopRunContext(t *testing.T) {
	L := newState(t)
	loop := luart.NewLoop()
	defer loop.Close()
	loop.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := loop.Run(ctx, L, -1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want deadline exceeded", err)
	}
}

func TestLoopCallbackErrors(t *testing.T) {
	L := newState(t)
	loop := luart.NewLoop()
	defer loop.Close()
	rt := &luart.Runtime{Loop: loop}

	// A Go error from a callback stops Run and comes back unchanged.
	sentinel := &luart.Error{Code: luart.CodeCompacted, Op: "etcd.watch", Message: "required revision has been compacted"}
	loop.Post(context.Background(), func(*lua.LState) error { return sentinel })
	loop.Post(context.Background(), appendTo(1)) // must stay queued
	if err := loop.Run(context.Background(), L, -1); err != sentinel {
		t.Fatalf("Run = %v, want the callback's error", err)
	}
	if loop.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1: Run stops at the failing callback", loop.Pending())
	}
	loop.Close()

	// A Lua error raised in a callback is re-raised with its original value.
	loop2 := luart.NewLoop()
	defer loop2.Close()
	rt.Loop = loop2
	run(t, L, `value = {reason = "from callback"}; handler = function() error(value) end`)
	loop2.Post(context.Background(), func(L *lua.LState) error {
		L.RaiseError("boom") // raised, not returned, as a careless binding might
		return nil
	})
	loop2.Post(context.Background(), func(L *lua.LState) error {
		L.Push(L.GetGlobal("handler"))
		L.Call(0, 0)
		return nil
	})
	L.SetGlobal("wait", L.NewFunction(func(L *lua.LState) int {
		if err := rt.Loop.Run(context.Background(), L, -1); err != nil {
			rt.RaiseErr(L, "etcd.wait", err)
		}
		return 0
	}))
	// Both errors come out of wait() as they were raised.
	run(t, L, `
		local ok, e = pcall(wait)
		assert(not ok and e:find("boom$"), tostring(e))
		local ok, e = pcall(wait)
		assert(not ok and rawequal(e, value), tostring(e))
	`)
}

func TestLoopClose(t *testing.T) {
	L := newState(t)
	L.SetGlobal("list", L.NewTable())
	loop := luart.NewLoop()
	loop.Post(context.Background(), appendTo(1))
	loop.Close()
	loop.Close()
	if loop.Pending() != 0 {
		t.Error("Close kept pending callbacks")
	}
	if loop.Post(context.Background(), appendTo(2)) {
		t.Error("Post on a closed loop reported true")
	}
	if loop.TryPost(appendTo(3)) {
		t.Error("TryPost on a closed loop reported true")
	}
	if err := loop.Run(context.Background(), L, -1); !errors.Is(err, luart.ErrLoopClosed) {
		t.Errorf("Run after Close = %v", err)
	}
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != 0 {
		t.Errorf("a dropped callback ran")
	}
}

func TestLoopBackPressure(t *testing.T) {
	loop := luart.NewLoopSize(2)
	defer loop.Close()
	noop := func(*lua.LState) error { return nil }
	if !loop.TryPost(noop) || !loop.TryPost(noop) {
		t.Fatal("TryPost refused with room left")
	}
	if loop.TryPost(noop) {
		t.Fatal("TryPost accepted on a full queue")
	}
	// A blocked producer gives up when its context ends...
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if loop.Post(ctx, noop) {
		t.Fatal("Post on a full queue reported true after its context ended")
	}
	// ...and when the loop closes under it.
	done := make(chan bool)
	go func() { done <- loop.Post(context.Background(), noop) }()
	time.Sleep(10 * time.Millisecond)
	loop.Close()
	if <-done {
		t.Fatal("Post blocked on a full queue reported true after Close")
	}
}

func TestLoopRunUntil(t *testing.T) {
	L := newState(t)
	L.SetGlobal("list", L.NewTable())
	loop := luart.NewLoop()
	defer loop.Close()
	release := loop.Hold()
	defer release()

	var mu sync.Mutex
	got := false
	wake := make(chan struct{}, 1)
	ready := func() bool { mu.Lock(); defer mu.Unlock(); return got }

	// Other callbacks are dispatched while waiting for our own event, which
	// comes only after the other one has run.
	dispatched := make(chan struct{})
	go func() {
		loop.Post(context.Background(), func(L *lua.LState) error {
			defer close(dispatched)
			return appendTo(1)(L)
		})
		<-dispatched
		mu.Lock()
		got = true
		mu.Unlock()
		wake <- struct{}{}
	}()
	ok, err := loop.RunUntil(context.Background(), L, ready, wake, -1)
	if !ok || err != nil {
		t.Fatalf("RunUntil = %v, %v", ok, err)
	}
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != 1 {
		t.Errorf("dispatched %d others while waiting, want 1", n)
	}

	// Ready at once: no wait.
	if ok, err := loop.RunUntil(context.Background(), L, ready, nil, 0); !ok || err != nil {
		t.Fatalf("RunUntil(ready) = %v, %v", ok, err)
	}

	// Timeout.
	never := func() bool { return false }
	start := time.Now()
	if ok, err := loop.RunUntil(context.Background(), L, never, nil, 20*time.Millisecond); ok || err != nil {
		t.Fatalf("RunUntil(timeout) = %v, %v", ok, err)
	}
	if time.Since(start) < 15*time.Millisecond {
		t.Error("RunUntil returned before its timeout")
	}

	// A callback may make it ready.
	flag := false
	loop.Post(context.Background(), func(*lua.LState) error { flag = true; return nil })
	if ok, err := loop.RunUntil(context.Background(), L, func() bool { return flag }, nil, time.Second); !ok || err != nil {
		t.Fatalf("RunUntil(callback) = %v, %v", ok, err)
	}

	// Context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := loop.RunUntil(ctx, L, never, nil, -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunUntil(canceled) = %v", err)
	}
}

// TestLoopRunEndsUnderFirehose: a source that keeps the queue full must not
// keep a timed Run (time.sleep) from returning.
func TestLoopRunEndsUnderFirehose(t *testing.T) {
	L := newState(t)
	loop := luart.NewLoopSize(16)
	defer loop.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	noop := func(*lua.LState) error { return nil }
	wg.Go(func() {
		for loop.Post(ctx, noop) {
		}
	})
	start := time.Now()
	if err := loop.Run(context.Background(), L, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Run(30ms) under a firehose took %v", d)
	}
	// Run(0) and RunUntil end too.
	if err := loop.Run(context.Background(), L, 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := loop.RunUntil(context.Background(), L, func() bool { return false }, nil, 30*time.Millisecond); ok || err != nil {
		t.Fatalf("RunUntil = %v, %v", ok, err)
	}
}

// TestLoopWaitEndsWhenIdle: Wait(d) returns before d once nothing could
// post (no hold, no source, an empty queue), and waits while a source
// lives; Run(d) sleeps the whole d regardless (time.sleep).
func TestLoopWaitEndsWhenIdle(t *testing.T) {
	L, loop := listLoop(t)
	ctx := context.Background()
	long := time.Minute

	// Nothing at all: at once.
	start := time.Now()
	if err := loop.Wait(ctx, L, long); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("Wait with nothing to wait for took %v", d)
	}

	// A hold released by its last callback, and a source that posts
	// once and then releases: Wait returns after both, having run both.
	hold := loop.Hold()
	source := loop.Source()
	go func() {
		time.Sleep(20 * time.Millisecond)
		loop.Post(ctx, func(L *lua.LState) error { hold(); return appendTo(1)(L) })
		time.Sleep(20 * time.Millisecond)
		loop.Post(ctx, appendTo(2))
		source()
	}()
	start = time.Now()
	if err := loop.Wait(ctx, L, long); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("Wait after the last source ended took %v", d)
	}
	if n := L.GetGlobal("list").(*lua.LTable).Len(); n != 2 {
		t.Fatalf("dispatched %d callbacks, want 2", n)
	}
	if loop.Sources() != 0 || loop.Active() != 0 {
		t.Fatalf("sources %d, holds %d left", loop.Sources(), loop.Active())
	}

	// A source alone keeps Wait(d) waiting its time, but not Run(-1).
	release := loop.Source()
	defer release()
	start = time.Now()
	if err := loop.Wait(ctx, L, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 45*time.Millisecond {
		t.Fatalf("Wait(50ms) with a live source returned after %v", d)
	}
	if err := loop.Run(ctx, L, -1); err != nil {
		t.Fatal(err)
	}
}

// listLoop returns a state with an empty global list (see appendTo) and a
// loop closed when the test ends.
func listLoop(t *testing.T) (*lua.LState, *luart.Loop) {
	L := newState(t)
	L.SetGlobal("list", L.NewTable())
	loop := luart.NewLoop()
	t.Cleanup(loop.Close)
	return L, loop
}
