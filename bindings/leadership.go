package bindings

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	"github.com/etcdscript/etcdscript/luart"
)

// Leadership that tells the script when it is lost (docs/lua.md):
// on_lost for locks and elections, e:is_leader(), e:guard() and
// e:observe(fn).

// lostWatch calls a session's on_lost once, at a dispatch point, when the
// session's lease is lost: it expired, was revoked, or could not be
// renewed. Ending the session on purpose (a lock released, e:close(), the
// run's end) is not a loss.
type lostWatch struct {
	ended atomic.Bool
}

// end marks the session as ended on purpose: on_lost will not run.
func (w *lostWatch) end() {
	if w != nil {
		w.ended.Store(true)
	}
}

// watchLost starts watching session s for a loss, when onLost is set. fn
// and name are the op and key of the error object on_lost receives.
func (c *conn) watchLost(s *concurrency.Session, fn, name string, onLost *lua.LFunction) *lostWatch {
	w := &lostWatch{}
	if onLost == nil {
		return w
	}
	m := c.m
	// Close cancels ctx, so that a Post waiting for room in a loop nobody
	// runs any more does not hold Close up.
	ctx, cancel := context.WithCancel(m.runCtx())
	untrack, ok := m.track(cancel)
	if !ok {
		cancel()
		return w
	}
	// A source of the loop: etcd.wait(seconds) waits while on_lost may
	// still come, and the posted callback counts as pending before this
	// releases.
	release := m.loop.Source()
	m.goroutine(func() {
		defer untrack()
		defer cancel()
		defer release()
		<-s.Done()
		reason := s.Err()
		// Canceled: the session was orphaned by us, or the run is over.
		if w.ended.Load() || m.runCtx().Err() != nil || errors.Is(reason, context.Canceled) {
			return
		}
		if reason == nil {
			reason = errors.New("session ended")
		}
		id := s.Lease()
		m.loop.Post(ctx, func(L *lua.LState) error {
			if w.ended.Swap(true) {
				return nil
			}
			L.Push(onLost)
			L.Push(m.errorValue(L, fn, name, lostErr(id, reason)))
			L.Call(1, 0)
			return nil
		})
	})
	return w
}

// electionIsLeader is e:is_leader(): one read of the election's leader,
// true when it is this candidate's key, created by this campaign.
func electionIsLeader(L *lua.LState) int {
	const fn = "election:is_leader"
	e := selfObject[*electionObj](L, fn, "election")
	if L.GetTop() > 1 {
		luart.ArgError(L, fn, "#1", "no arguments expected, got %s", L.Get(2).Type().String())
	}
	key, rev := e.e.Key(), e.e.Rev()
	if key == "" {
		L.Push(lua.LFalse)
		return 1
	}
	ctx, cancel := e.c.callCtx()
	resp, err := e.e.Leader(ctx)
	cancel()
	if errors.Is(err, concurrency.ErrElectionNoLeader) {
		L.Push(lua.LFalse)
		return 1
	}
	if err != nil {
		e.c.m.raise(L, fn, e.name, err)
	}
	kv := resp.Kvs[0]
	L.Push(lua.LBool(string(kv.Key) == key && kv.CreateRevision == rev))
	return 1
}

// electionGuard is e:guard(): a compare that holds only while this
// candidate's key is the one its campaign created, to fence a leader's
// writes in a txn as lock:guard() fences a lock holder's.
func electionGuard(L *lua.LState) int {
	const fn = "election:guard"
	e := selfObject[*electionObj](L, fn, "election")
	key := e.e.Key()
	if key == "" {
		luart.Raise(L, &luart.Error{Code: luart.CodeInvalidArgument, Op: fn, Key: e.name,
			Message: "not a candidate of this election: campaign first"})
	}
	cmp := client.Compare(client.CreateRevision(key), "=", e.e.Rev())
	L.Push(newObject(L, &cmpObj{cmp: cmp}, e.c.m.mt.cmp))
	return 1
}

// observerObj is the handle e:observe returns. ended belongs to the
// script's goroutine.
type observerObj struct {
	name    string
	fn      *lua.LFunction
	cancel  context.CancelFunc
	release func()
	untrack func()
	ended   bool
}

// electionObserve is e:observe(fn): fn(value, kv) runs at dispatch points
// for the current leader, if any, and on every change of leader or value
// (concurrency.Election.Observe, which never repeats a value). Like a
// callback watch it holds the run's loop until it is cancelled, fn returns
// false, the run ends, or observing fails for good.
func electionObserve(L *lua.LState) int {
	const fn = "election:observe"
	e := selfObject[*electionObj](L, fn, "election")
	cb := luart.Args{L: L, Fn: fn, Offset: 1}.Function(2, "fn")
	if L.GetTop() > 2 {
		luart.ArgError(L, fn, "#2", "nothing expected after the callback, got %s", L.Get(3).Type().String())
	}
	m := e.c.m
	ctx, cancel := context.WithCancel(m.runCtx())
	release := m.loop.Hold()
	untrack, ok := m.track(func() { cancel(); release() })
	if !ok {
		cancel()
		release()
		m.raise(L, fn, e.name, context.Canceled)
	}
	ob := &observerObj{name: e.name, fn: cb, cancel: cancel, release: release, untrack: untrack}
	ch := e.e.Observe(ctx)
	m.goroutine(func() {
		for resp := range ch {
			kv := resp.Kvs[0]
			val, t := lua.LString(kv.Value), kvTable(kv)
			if !m.loop.Post(ctx, func(L *lua.LState) error { return ob.deliver(L, val, t) }) {
				break
			}
		}
		cancel()
		for range ch {
		}
		// Callbacks already posted still run: the loop dispatches what is
		// queued before it looks at the holds.
		release()
		untrack()
	})
	L.Push(newObject(L, ob, m.mt.observer))
	return 1
}

func (ob *observerObj) deliver(L *lua.LState, val lua.LString, kv *lua.LTable) error {
	if ob.ended {
		return nil
	}
	L.Push(ob.fn)
	L.Push(val)
	L.Push(kv)
	L.Call(2, 1)
	ret := L.Get(-1)
	L.Pop(1)
	if ret == lua.LFalse {
		ob.end()
	}
	return nil
}

func (ob *observerObj) end() {
	if ob.ended {
		return
	}
	ob.ended = true
	ob.cancel()
	ob.release()
	ob.untrack()
}

func (m *Module) observerMeta(L *lua.LState) *lua.LTable {
	return newClass(L, "etcd.observer", map[string]lua.LGFunction{
		"cancel": func(L *lua.LState) int {
			ob := selfObject[*observerObj](L, "observer:cancel", "observer")
			ob.end()
			return 0
		},
	}, func(L *lua.LState) int {
		ob, ok := L.CheckUserData(1).Value.(*observerObj)
		if !ok {
			return pushString(L, "etcd.observer")
		}
		state := "active"
		if ob.ended {
			state = "ended"
		}
		return pushString(L, "etcd.observer("+strconv.Quote(ob.name)+", "+state+")")
	})
}
