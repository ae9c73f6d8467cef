package luart

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// DefaultLoopSize is how many callbacks may wait in a Loop before Post
// blocks. The bound is the back-pressure of a fast watch: its producer waits
// for the script instead of filling memory.
const DefaultLoopSize = 4096

// ErrLoopClosed is returned by Run and RunUntil once the loop is closed.
var ErrLoopClosed = errors.New("event loop closed")

// Callback is work posted to the script's thread. It runs with the script's
// state; a returned error, or a Lua error it raises, ends the Run that
// dispatched it and is returned from there.
type Callback func(L *lua.LState) error

// Loop is the event loop of one run. gopher-lua states are not safe for
// concurrent use, so goroutines that produce asynchronous results (watches,
// keepalives) Post callbacks, and the script's own goroutine runs them
// inside Run or RunUntil: at the dispatch points docs/lua.md names, one at a
// time, in the order they were posted.
//
// A source that keeps the script alive after its main chunk returns (an
// active watch) takes a Hold for as long as it lives. A source that may
// post callbacks but must not keep a finished script running (a lease
// keepalive with its on_lost) takes a Source instead, so that Wait knows
// that something may still arrive.
//
// A Loop starts no goroutines. Post, TryPost, Hold, Active, Pending and
// Close are safe from any goroutine; Run and RunUntil belong to the
// goroutine that owns the state.
type Loop struct {
	queue     chan Callback
	closed    chan struct{}
	closeOnce sync.Once
	holds     atomic.Int64
	sources   atomic.Int64
	// wake nudges a waiting Run or Wait when a hold or a source goes
	// away, so that it notices when there is nothing left to wait for.
	wake chan struct{}
}

// NewLoop returns a loop with room for DefaultLoopSize pending callbacks.
func NewLoop() *Loop { return NewLoopSize(DefaultLoopSize) }

// NewLoopSize returns a loop with room for size pending callbacks (at
// least 1).
func NewLoopSize(size int) *Loop {
	return &Loop{
		queue:  make(chan Callback, max(size, 1)),
		closed: make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
}

// Post queues fn to run on the script's thread. It blocks while the queue
// is full and reports false, dropping fn, when ctx ends or the loop is
// closed first. It must not be called from the script's own goroutine with
// a context that never ends: only that goroutine empties the queue.
func (l *Loop) Post(ctx context.Context, fn Callback) bool {
	select {
	case <-l.closed:
		return false
	default:
	}
	select {
	case l.queue <- fn:
		return true
	case <-ctx.Done():
		return false
	case <-l.closed:
		return false
	}
}

// TryPost queues fn if there is room and the loop is open, without
// blocking. It is the Post to use from the script's own goroutine.
func (l *Loop) TryPost(fn Callback) bool {
	select {
	case <-l.closed:
		return false
	default:
	}
	select {
	case l.queue <- fn:
		return true
	default:
		return false
	}
}

// Hold counts one active source that keeps the script alive. The returned
// release ends it; calling release more than once has no further effect.
func (l *Loop) Hold() (release func()) { return l.count(&l.holds) }

// Source counts one source that may post callbacks without keeping the
// script alive after its main chunk (Run with d < 0 does not wait for it;
// Wait does). The returned release ends it; calling release more than once
// has no further effect. A source that posts a last callback releases after
// posting it.
func (l *Loop) Source() (release func()) { return l.count(&l.sources) }

func (l *Loop) count(n *atomic.Int64) (release func()) {
	n.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			if n.Add(-1) == 0 {
				select {
				case l.wake <- struct{}{}:
				default:
				}
			}
		})
	}
}

// Active returns the number of holds not yet released.
func (l *Loop) Active() int { return int(l.holds.Load()) }

// Sources returns the number of sources (Source) not yet released.
func (l *Loop) Sources() int { return int(l.sources.Load()) }

// Pending returns the number of callbacks waiting to run.
func (l *Loop) Pending() int { return len(l.queue) }

// Close closes the loop: later Posts report false, callbacks still pending
// are dropped, and Run returns ErrLoopClosed. Close is idempotent.
func (l *Loop) Close() {
	l.closeOnce.Do(func() {
		close(l.closed)
		for {
			select {
			case <-l.queue:
			default:
				return
			}
		}
	})
}

func (l *Loop) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// Run dispatches callbacks on the calling goroutine, which must own L.
// With d > 0 it returns nil after d has passed, even while callbacks keep
// arriving; d == 0 runs only the callbacks already queued. With d < 0 it
// returns nil once no hold is left and the queue is empty. It returns ctx's
// error when ctx ends first, and the error of a callback that fails: a Lua
// error raised in a callback comes back as the *lua.ApiError carrying the
// original value, which Runtime.RaiseErr raises again unchanged.
func (l *Loop) Run(ctx context.Context, L *lua.LState, d time.Duration) error {
	return l.run(ctx, L, d, false)
}

// Wait is Run for a script that waits for its callbacks (etcd.wait): with
// d > 0 it also returns, before d has passed, as soon as nothing is left
// that could post a callback: no hold, no source and an empty queue. With
// d <= 0 it is Run.
func (l *Loop) Wait(ctx context.Context, L *lua.LState, d time.Duration) error {
	return l.run(ctx, L, d, d > 0)
}

// idle reports whether nothing is queued and nothing could post.
func (l *Loop) idle() bool {
	return l.holds.Load() == 0 && l.sources.Load() == 0 && len(l.queue) == 0
}

func (l *Loop) run(ctx context.Context, L *lua.LState, d time.Duration, untilIdle bool) error {
	if d == 0 {
		return l.drain(ctx, L)
	}
	var (
		deadline time.Time
		timeout  <-chan time.Time
	)
	if d > 0 {
		deadline = time.Now().Add(d)
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		if err := l.check(ctx); err != nil {
			return err
		}
		// A source that never pauses keeps the queue full; the deadline
		// must still end the wait.
		if d > 0 && !time.Now().Before(deadline) {
			return nil
		}
		select {
		case fn := <-l.queue:
			if err := l.dispatch(L, fn); err != nil {
				return err
			}
			continue
		default:
		}
		if d < 0 && l.holds.Load() == 0 {
			// The last source may have posted right before releasing.
			if len(l.queue) == 0 {
				return nil
			}
			continue
		}
		if untilIdle && l.idle() {
			return nil
		}
		select {
		case fn := <-l.queue:
			if err := l.dispatch(L, fn); err != nil {
				return err
			}
		case <-l.wake:
		case <-timeout:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-l.closed:
			return ErrLoopClosed
		}
	}
}

// drain runs the callbacks queued when it starts, and no more, so that a
// busy source cannot hold it.
func (l *Loop) drain(ctx context.Context, L *lua.LState) error {
	for n := len(l.queue); n > 0; n-- {
		if err := l.check(ctx); err != nil {
			return err
		}
		select {
		case fn := <-l.queue:
			if err := l.dispatch(L, fn); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return l.check(ctx)
}

// check reports why dispatching must stop: the context ended or the loop
// closed.
func (l *Loop) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.isClosed() {
		return ErrLoopClosed
	}
	return nil
}

// RunUntil dispatches callbacks like Run until ready reports true, and then
// returns true. It is the wait of a pulling watcher: ready checks for the
// watcher's own event, and wake (which may be nil) is signalled by a source
// that makes ready true without posting a callback. It returns false and nil
// when timeout passes first (timeout < 0 waits without limit), and ctx's or
// a callback's error as Run does. ready must also turn true when its source
// ends, or an unlimited wait would never return.
func (l *Loop) RunUntil(ctx context.Context, L *lua.LState, ready func() bool, wake <-chan struct{}, timeout time.Duration) (bool, error) {
	var (
		deadline time.Time
		expired  <-chan time.Time
	)
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		if ready() {
			return true, nil
		}
		if err := l.check(ctx); err != nil {
			return false, err
		}
		if timeout >= 0 && !time.Now().Before(deadline) {
			return false, nil
		}
		select {
		case fn := <-l.queue:
			if err := l.dispatch(L, fn); err != nil {
				return false, err
			}
		case <-wake:
		case <-expired:
			return ready(), nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-l.closed:
			return false, ErrLoopClosed
		}
	}
}

// dispatch runs one callback under a protected call, so that a Lua error it
// raises comes back as an error instead of unwinding through Run.
func (l *Loop) dispatch(L *lua.LState, fn Callback) error {
	var cbErr error
	L.Push(L.NewFunction(func(L *lua.LState) int {
		cbErr = fn(L)
		return 0
	}))
	if err := PCall(L, 0, 0); err != nil {
		return err
	}
	return cbErr
}
