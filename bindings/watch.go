package bindings

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

var watchOptions = luart.NewOptionSet(
	"prefix", "range_end", "from_key", "rev", "prev_kv", "no_put", "no_delete",
	"progress_notify", "fragment", "on_progress", "on_error", "timeout",
)

// postedResponses is how many responses of one callback watch may wait in
// the run's loop at a time.
const postedResponses = 8

// pullQueue is how many responses a pulling watcher holds before its
// producer waits for the script: memory stays bounded by the queue (and the
// client's own per-watch buffer) however slowly the script pulls.
const pullQueue = 16

// The event types as Lua values, made once.
var (
	evPut    lua.LValue = lua.LString("put")
	evDelete lua.LValue = lua.LString("delete")
)

// errWatchEnded is the cause of a watch that ended with no reason given (its
// client was closed under it).
var errWatchEnded = errors.New("watch ended: its client was closed")

// watchObj is a watch as the script sees it. Fields without a comment
// belong to the script's goroutine.
//
// A callback watch delivers through the run's Loop: its goroutine posts one
// callback per response, which calls the script's function for each event,
// and a last one when the watch ends. It holds the loop while it lives, so
// the run goes on after the main chunk until no watch is left.
//
// A pulling watch (no callback) hands responses to w:next through a bounded
// queue; it does not hold the loop, since nothing can pull from it once the
// main chunk has returned.
type watchObj struct {
	c   *conn
	key string
	cb  *lua.LFunction
	// onProgress and onError are the optional callbacks.
	onProgress, onError *lua.LFunction

	ctx     context.Context
	cancel  context.CancelFunc
	release func() // ends the loop hold; idempotent
	untrack func()
	ended   bool
	slots   chan struct{} // responses posted and not yet delivered

	// Pull form.
	queue   chan client.WatchResponse // closed by the producer at the end
	closed  atomic.Bool               // set before queue closes
	endErr  error                     // why the watch ended; written before closed is set
	wake    chan struct{}
	pending []*client.Event
	pi      int
	iter    *lua.LFunction
}

// watch is etcd.watch(key [, opts] [, fn]).
func (c *conn) watch(L *lua.LState) int {
	const fn = "etcd.watch"
	a := c.args(L, fn)
	b := c.off
	key := a.String(b+1, "key")
	optsAt := b + 2
	var cb *lua.LFunction
	if f, ok := L.Get(b + 2).(*lua.LFunction); ok {
		// etcd.watch(key, fn): no options.
		cb = f
		optsAt = -1
		if L.GetTop() > b+2 {
			a.Fail(b+3, "", "nothing expected after the callback, got %s", L.Get(b+3).Type().String())
		}
	} else {
		cb = a.OptFunction(b+3, "fn")
	}
	var o luart.Options
	if optsAt > 0 {
		o = a.Options(optsAt, "opts", watchOptions)
	} else {
		o = a.Options(L.GetTop()+1, "opts", watchOptions) // an empty options value
	}
	keyArg(a, b+1, key, wholeSpace(&o))
	opts := make([]client.OpOption, 0, 10)
	opts, _ = rangeSpan(&o, opts)
	var lifetime time.Duration
	w := &watchObj{c: c, key: key, cb: cb}
	if o.Raw() != nil {
		if rev := o.Revision("rev"); rev > 0 {
			opts = append(opts, client.WithRev(rev))
		}
		if o.Bool("prev_kv", false) {
			opts = append(opts, client.WithPrevKV())
		}
		if o.Bool("no_put", false) {
			opts = append(opts, client.WithFilterPut())
		}
		if o.Bool("no_delete", false) {
			opts = append(opts, client.WithFilterDelete())
		}
		if o.Bool("progress_notify", false) {
			opts = append(opts, client.WithProgressNotify())
		}
		if o.Bool("fragment", false) {
			opts = append(opts, client.WithFragment())
		}
		w.onProgress = o.Function("on_progress")
		w.onError = o.Function("on_error")
		lifetime = o.Duration("timeout", 0)
	}
	opts = append(opts, client.WithCreatedNotify())

	watcher, err := c.watcher()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	m := c.m
	if lifetime > 0 {
		w.ctx, w.cancel = context.WithTimeout(m.runCtx(), lifetime)
	} else {
		w.ctx, w.cancel = context.WithCancel(m.runCtx())
	}
	// A callback watch holds the loop from the start, so the hold is in
	// place before Close can see the watch.
	w.release = func() {}
	if cb != nil {
		w.release = m.loop.Hold()
	}
	untrack, ok := m.track(func() { w.cancel(); w.release() })
	if !ok {
		w.cancel()
		w.release()
		m.raise(L, fn, key, context.Canceled)
	}
	w.untrack = untrack

	// With the require-leader mark, a watch on a member cut off from the
	// cluster moves to another member instead of waiting there, silent;
	// it ends with no_leader only when no member has a leader for a while.
	wch := watcher.Watch(client.WithRequireLeader(w.ctx), key, opts...)
	first, err := w.awaitCreated(wch)
	if err != nil {
		w.cancel()
		w.release()
		w.untrack()
		// Whatever the client still sends goes nowhere.
		m.goroutine(func() {
			for range wch {
			}
		})
		m.raise(L, fn, key, err)
	}
	if cb != nil {
		w.slots = make(chan struct{}, postedResponses)
		m.goroutine(func() { w.produce(wch, first) })
	} else {
		w.queue = make(chan client.WatchResponse, pullQueue)
		w.wake = make(chan struct{}, 1)
		m.goroutine(func() { w.producePull(wch, first) })
	}
	L.Push(newObject(L, w, m.mt.watch))
	return 1
}

// awaitCreated waits, no longer than a call may take, for the server to
// confirm the watch. A response that is not the confirmation is returned
// to be delivered first.
func (w *watchObj) awaitCreated(wch client.WatchChan) (*client.WatchResponse, error) {
	var timeout <-chan time.Time
	if d := w.c.callTimeout(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case resp, ok := <-wch:
		if !ok {
			if err := w.ctx.Err(); err != nil {
				return nil, w.ctxErr()
			}
			return nil, errWatchEnded
		}
		if err := resp.Err(); err != nil {
			return nil, err
		}
		if resp.Created {
			return nil, nil
		}
		return &resp, nil
	case <-timeout:
		return nil, context.DeadlineExceeded
	case <-w.ctx.Done():
		return nil, w.ctxErr()
	}
}

// ctxErr says why the watch's context ended: the run's end, or its timeout.
func (w *watchObj) ctxErr() error {
	if err := w.c.m.runCtx().Err(); err != nil {
		return err
	}
	return w.ctx.Err()
}

// produce runs on the watch's goroutine for a callback watch: it posts each
// response to the loop, then a last callback that ends the watch.
func (w *watchObj) produce(wch client.WatchChan, first *client.WatchResponse) {
	loop := w.c.m.loop
	var endErr error
	post := func(resp client.WatchResponse) bool {
		if err := resp.Err(); err != nil {
			endErr = err
			return false
		}
		switch {
		case len(resp.Events) > 0:
			// A slot first: at most postedResponses of this watch wait in
			// the loop, so a slow script holds back the watch (whose
			// client buffer is bounded) instead of filling memory.
			select {
			case w.slots <- struct{}{}:
			case <-w.ctx.Done():
				return false
			}
			evs := make([]*lua.LTable, len(resp.Events))
			for i, ev := range resp.Events {
				evs[i] = eventTable(ev)
			}
			ok := loop.Post(w.ctx, func(L *lua.LState) error {
				defer func() { <-w.slots }()
				return w.deliver(L, evs)
			})
			if !ok {
				<-w.slots
			}
			return ok
		case resp.IsProgressNotify() && w.onProgress != nil:
			rev := resp.Header.GetRevision()
			return loop.Post(w.ctx, func(L *lua.LState) error { return w.progress(L, rev) })
		}
		return true
	}
	ok := first == nil || post(*first)
	for ok {
		resp, open := <-wch
		if !open {
			break
		}
		ok = post(resp)
	}
	endErr = w.stopped(wch, endErr)
	if endErr == errCancelled {
		// Cancelled by the script, its callback, Close or the run's end:
		// nothing is left to deliver.
		w.release()
		w.untrack()
		return
	}
	final := func(L *lua.LState) error { return w.finish(L, endErr) }
	if !loop.Post(w.c.m.runCtx(), final) {
		w.release()
		w.untrack()
	}
}

// errCancelled marks a watch that ended because it was cancelled.
var errCancelled = errors.New("watch cancelled")

// stopped releases the client's side of a watch whose channel closed or
// whose delivery stopped, and says how it ended: errCancelled when its
// context was cancelled (not by its own timeout), nil for a quiet end (its
// timeout, or its client closed by the script), or the error to report.
func (w *watchObj) stopped(wch client.WatchChan, endErr error) error {
	cancelled := w.ctx.Err() != nil
	timedOut := w.timedOut()
	w.cancel()
	// Let the client's goroutines finish with the channel.
	for range wch {
	}
	if cancelled && (endErr == nil || isCtxErr(endErr)) {
		if timedOut {
			return nil
		}
		return errCancelled
	}
	if endErr == nil {
		return w.closedCause()
	}
	return endErr
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// timedOut reports whether the watch ended at its own timeout option.
func (w *watchObj) timedOut() bool {
	return errors.Is(w.ctx.Err(), context.DeadlineExceeded) && w.c.m.runCtx().Err() == nil
}

// closedCause is why a watch ended without an error response: its client
// was closed. A client the script closed itself ends its watches quietly.
func (w *watchObj) closedCause() error {
	if w.c.checkOpen() != nil {
		return nil
	}
	return errWatchEnded
}

// deliver calls the callback with each event, on the script's goroutine.
func (w *watchObj) deliver(L *lua.LState, events []*lua.LTable) error {
	for _, ev := range events {
		if w.ended {
			return nil
		}
		L.Push(w.cb)
		L.Push(ev)
		L.Call(1, 1)
		ret := L.Get(-1)
		L.Pop(1)
		if ret == lua.LFalse {
			w.end()
		}
	}
	return nil
}

// progress calls on_progress with the revision up to which the watch has
// seen every change.
func (w *watchObj) progress(L *lua.LState, rev int64) error {
	if w.ended || w.onProgress == nil {
		return nil
	}
	L.Push(w.onProgress)
	L.Push(num(rev))
	L.Call(1, 0)
	return nil
}

// finish ends a watch that ended on its own: with err, to on_error or
// raised from the dispatch point; or quietly (at its timeout).
func (w *watchObj) finish(L *lua.LState, err error) error {
	if w.ended {
		return nil
	}
	w.end()
	if err == nil {
		return nil
	}
	e := w.c.m.newError("etcd.watch", w.key, err)
	if w.onError != nil {
		L.Push(w.onError)
		L.Push(luart.ErrorValue(L, e))
		L.Call(1, 0)
		return nil
	}
	return e
}

// end ends the watch on the script's side.
func (w *watchObj) end() {
	if w.ended {
		return
	}
	w.ended = true
	w.cancel()
	w.release()
	w.untrack()
}

// eventTable converts an event: {type, kv, prev_kv, revision}. It uses no
// state: callback watches build their events on their own goroutine.
func eventTable(ev *client.Event) *lua.LTable {
	typ := evPut
	if ev.Type == client.EventTypeDelete {
		typ = evDelete
	}
	// A nil value leaves its key out (luart.Shape.New).
	var kv, rev, prev lua.LValue
	if ev.Kv != nil {
		t := kvTable(ev.Kv)
		kv = t
		// The revision is the kv's mod_revision: the same boxed number.
		rev = t.RawGetString("mod_revision")
	}
	if ev.PrevKv != nil {
		prev = kvTable(ev.PrevKv)
	}
	return eventShape.New(typ, kv, rev, prev)
}

// producePull runs on the watch's goroutine for a pulling watch: it queues
// responses for w:next, and closes the queue when the watch ends.
func (w *watchObj) producePull(wch client.WatchChan, first *client.WatchResponse) {
	var endErr error
	push := func(resp client.WatchResponse) bool {
		if err := resp.Err(); err != nil {
			endErr = err
			return false
		}
		if len(resp.Events) == 0 && !(resp.IsProgressNotify() && w.onProgress != nil) {
			return true
		}
		select {
		case w.queue <- resp:
		case <-w.ctx.Done():
			return false
		}
		w.signal()
		return true
	}
	ok := first == nil || push(*first)
	for ok {
		resp, open := <-wch
		if !open {
			break
		}
		ok = push(resp)
	}
	endErr = w.stopped(wch, endErr)
	if endErr == errCancelled {
		endErr = nil
	}
	w.endErr = endErr
	w.closed.Store(true)
	close(w.queue)
	w.signal()
}

func (w *watchObj) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// next is w:next([seconds]): the next event, or nil when the time passes
// or the watch has ended. While it waits it dispatches other callbacks.
func (w *watchObj) next(L *lua.LState, fn string, timeout time.Duration) lua.LValue {
	m := w.c.m
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		if w.pi < len(w.pending) {
			ev := w.pending[w.pi]
			w.pending[w.pi] = nil
			w.pi++
			return eventTable(ev)
		}
		if w.ended {
			return lua.LNil
		}
		select {
		case resp, open := <-w.queue:
			if !open {
				w.endPull(L)
				return lua.LNil
			}
			if len(resp.Events) == 0 {
				if err := w.progress(L, resp.Header.GetRevision()); err != nil {
					m.raise(L, fn, w.key, err)
				}
				continue
			}
			w.pending, w.pi = resp.Events, 0
			continue
		default:
		}
		left := time.Duration(-1)
		if timeout >= 0 {
			if left = time.Until(deadline); left <= 0 {
				return lua.LNil
			}
		}
		ready := func() bool { return len(w.queue) > 0 || w.closed.Load() }
		got, err := m.loop.RunUntil(m.runCtx(), L, ready, w.wake, left)
		if err != nil {
			if errors.Is(err, luart.ErrLoopClosed) {
				return lua.LNil
			}
			m.raise(L, fn, "", err)
		}
		if !got && timeout >= 0 && time.Until(deadline) <= 0 {
			return lua.LNil
		}
	}
}

// endPull ends a pulling watch whose queue closed: its error goes to
// on_error or is raised from w:next.
func (w *watchObj) endPull(L *lua.LState) {
	err := w.endErr
	if w.ended {
		return
	}
	w.end()
	if err == nil {
		return
	}
	e := w.c.m.newError("etcd.watch", w.key, err)
	if w.onError != nil {
		L.Push(w.onError)
		L.Push(luart.ErrorValue(L, e))
		L.Call(1, 0)
		return
	}
	luart.Raise(L, e)
}

func (m *Module) watchMeta(L *lua.LState) *lua.LTable {
	return newClass(L, "etcd.watcher", map[string]lua.LGFunction{
		"next": func(L *lua.LState) int {
			const fn = "watch:next"
			w := selfObject[*watchObj](L, fn, "watcher")
			timeout := luart.Args{L: L, Fn: fn, Offset: 1}.OptDuration(2, "seconds", -1)
			if w.cb != nil {
				luart.ArgError(L, fn, "#0 (self)", "this watch delivers to its callback; only a watch made without one can be pulled")
			}
			ev := w.next(L, fn, timeout)
			if ev == lua.LNil {
				luart.NoteNil(L, fn+"()", "no event came in time, or the watch has ended",
					"local ev = w:next(seconds); if ev then ... end")
			}
			L.Push(ev)
			return 1
		},
		"events": func(L *lua.LState) int {
			const fn = "watch:events"
			w := selfObject[*watchObj](L, fn, "watcher")
			if w.cb != nil {
				luart.ArgError(L, fn, "#0 (self)", "this watch delivers to its callback; only a watch made without one can be pulled")
			}
			if w.iter == nil {
				w.iter = L.NewFunction(func(L *lua.LState) int {
					L.Push(w.next(L, fn, -1))
					return 1
				})
			}
			L.Push(w.iter)
			return 1
		},
		"cancel": func(L *lua.LState) int {
			w := selfObject[*watchObj](L, "watch:cancel", "watcher")
			w.end()
			return 0
		},
	}, func(L *lua.LState) int {
		w, ok := L.CheckUserData(1).Value.(*watchObj)
		if !ok {
			return pushString(L, "etcd.watcher")
		}
		state := "active"
		if w.ended {
			state = "ended"
		}
		return pushString(L, "etcd.watcher("+lua.LString(w.key).String()+", "+state+")")
	})
}

// wait is etcd.wait([seconds]): it dispatches callbacks until no watch is
// left, or until the time passes. With seconds it also returns early once
// nothing is left that could call back (no watch, no keepalive, nothing
// queued): waiting on would only sleep. It returns true when no watch is
// left.
func (m *Module) wait(L *lua.LState) int {
	const fn = "etcd.wait"
	d := luart.Args{L: L, Fn: fn}.OptDuration(1, "seconds", -1)
	err := m.loop.Wait(m.runCtx(), L, d)
	if err != nil && !errors.Is(err, luart.ErrLoopClosed) {
		m.raise(L, fn, "", err)
	}
	L.Push(lua.LBool(m.loop.Active() == 0))
	return 1
}
