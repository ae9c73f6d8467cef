package bindings

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	"github.com/etcdscript/etcdscript/luart"
)

// releaseTimeout bounds the release of a lock when no per-call timeout
// does.
const releaseTimeout = 5 * time.Second

// defaultSessionTTL is the lease TTL of lock and election sessions when no
// ttl option is given, as in clientv3's concurrency package.
const defaultSessionTTL = 60

var (
	lockOptions     = luart.NewOptionSet("ttl", "timeout", "on_lost")
	electionOptions = luart.NewOptionSet("ttl", "on_lost")
	campaignOptions = luart.NewOptionSet("timeout")
)

// lockObj is the lock handed to the function of etcd.lock: lock.key,
// lock.revision and lock:guard().
type lockObj struct {
	c     *conn
	name  string
	key   string
	rev   int64
	guard client.Cmp
}

// electionObj is an election: e:campaign, e:proclaim, e:leader, e:resign.
type electionObj struct {
	c     *conn
	name  string
	s     *concurrency.Session
	e     *concurrency.Election
	close func() // closes the session and untracks it
	lost  *lostWatch
	// hadLed is set when proclaim found this candidate's key gone after
	// it had led, so that later calls say the leadership was lost rather
	// than that it never campaigned; campaign and resign clear it.
	hadLed bool
}

// sessionTTL reads the ttl option: seconds, rounded up.
func sessionTTL(o *luart.Options) int {
	secs := o.Number("ttl", defaultSessionTTL)
	if !(secs > 0) || secs > math.MaxInt32 {
		o.Fail("ttl", "a positive number of seconds expected, got %v", secs)
	}
	return int(math.Ceil(secs))
}

// newSession grants the session's lease under the per-call timeout and
// starts its keepalive on the run's context. The session is closed (its
// lease revoked) by the returned function, or by Module.Close.
func (c *conn) newSession(ttl int) (*concurrency.Session, func(), error) {
	cli, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	lease, err := c.lease()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := c.callCtx()
	resp, err := lease.Grant(ctx, int64(ttl))
	cancel()
	if err != nil {
		return nil, nil, err
	}
	s, err := concurrency.NewSession(cli, concurrency.WithLease(resp.ID), concurrency.WithTTL(ttl), concurrency.WithContext(c.m.runCtx()),
		concurrency.WithNamespace(c.b.LockNamespace))
	if err != nil {
		rctx, rcancel := c.callCtx()
		_, _ = lease.Revoke(rctx, resp.ID)
		rcancel()
		return nil, nil, err
	}
	end := func() { c.endSession(s, ttl) }
	untrack, ok := c.m.track(end)
	if !ok {
		end()
		return nil, nil, context.Canceled
	}
	return s, func() {
		untrack()
		end()
	}, nil
}

// endSession stops the session's keepalive and revokes its lease, deleting
// the keys on it (a lock's or a candidacy's). Like a lock's release, the
// revoke outlives the run's context: a script stopped by its timeout or a
// Ctrl-C hands back what it held at once, not a TTL later. It is bounded by
// the per-call timeout, and by the TTL (the lease is gone after that anyway).
func (c *conn) endSession(s *concurrency.Session, ttl int) {
	s.Orphan()
	lease, err := c.lease()
	if err != nil {
		return
	}
	ctx, cancel := c.releaseCtx(time.Duration(ttl) * time.Second)
	defer cancel()
	_, _ = lease.Revoke(ctx, s.Lease())
}

// releaseCtx is the context of a release that must happen even when the
// run was stopped: detached from the run's context, bounded by the
// per-call timeout (releaseTimeout when there is none) and, if positive,
// by limit.
func (c *conn) releaseCtx(limit time.Duration) (context.Context, context.CancelFunc) {
	d := c.callTimeout()
	if d <= 0 {
		d = releaseTimeout
	}
	if limit > 0 {
		d = min(d, limit)
	}
	return context.WithTimeout(context.WithoutCancel(c.m.runCtx()), d)
}

// lock is etcd.lock(name, [{ttl=, timeout=},] fn): it takes the lock, calls
// fn(lock), releases the lock when fn returns or raises, and returns what fn
// returned or raises what it raised. Waiting for the lock is bounded by the
// timeout option (lock_timeout when it passes) and the run's context, not
// by the per-call timeout.
func (c *conn) lock(L *lua.LState) int {
	const fn = "etcd.lock"
	a := c.args(L, fn)
	b := c.off
	name := a.String(b+1, "name")
	optsAt, fnAt := b+2, b+3
	if _, ok := L.Get(b + 2).(*lua.LFunction); ok {
		optsAt, fnAt = -1, b+2
	}
	var o luart.Options
	if optsAt > 0 {
		o = a.Options(optsAt, "opts", lockOptions)
	} else {
		o = a.Options(L.GetTop()+1, "opts", lockOptions)
	}
	body := a.Function(fnAt, "fn")
	if name == "" {
		a.Key(b+1, "name") // raises empty_key
	}
	ttl := sessionTTL(&o)
	timeout := o.Duration("timeout", 0)

	s, closeSession, err := c.newSession(ttl)
	if err != nil {
		c.m.raise(L, fn, name, err)
	}
	lost := c.watchLost(s, fn, name, o.Function("on_lost"))
	mu := concurrency.NewMutex(s, name)
	lctx, lcancel := c.m.runCtx(), context.CancelFunc(func() {})
	if timeout > 0 {
		lctx, lcancel = context.WithTimeout(lctx, timeout)
	}
	err = mu.Lock(lctx)
	lcancel()
	if err != nil {
		lost.end()
		closeSession()
		if timeout > 0 && errors.Is(err, context.DeadlineExceeded) && c.m.runCtx().Err() == nil {
			luart.Raise(L, &luart.Error{Code: luart.CodeLockTimeout, Op: fn, Key: name,
				Message: "lock not acquired within " + timeout.String(), Cause: err})
		}
		c.m.raise(L, fn, name, err)
	}
	guard := mu.IsOwner()
	lk := &lockObj{c: c, name: name, key: mu.Key(), rev: guard.GetCompare().GetCreateRevision(), guard: guard}

	base := L.GetTop()
	L.Push(body)
	L.Push(newObject(L, lk, c.m.mt.lock))
	callErr := L.PCall(1, lua.MultRet, nil)

	// Release whatever happened; an error releasing is reported only when
	// fn itself succeeded. An interrupted run releases too (a Ctrl-C must
	// not leave the lock held until its lease expires), so the release
	// outlives the run's context.
	lost.end()
	uctx, ucancel := c.releaseCtx(0)
	uerr := mu.Unlock(uctx)
	ucancel()
	closeSession()
	if callErr != nil {
		if ae, ok := callErr.(*lua.ApiError); ok && ae.Object != nil {
			L.Error(ae.Object, 0)
		}
		c.m.raise(L, fn, name, callErr)
	}
	if uerr != nil && c.m.runCtx().Err() == nil {
		c.m.raise(L, fn, name, uerr)
	}
	return L.GetTop() - base
}

func (m *Module) lockMeta(L *lua.LState) *lua.LTable {
	return newFieldClass(L, "etcd.lock", map[string]lua.LGFunction{
		"guard": func(L *lua.LState) int {
			lk := selfObject[*lockObj](L, "lock:guard", "lock")
			L.Push(newObject(L, &cmpObj{cmp: lk.guard}, m.mt.cmp))
			return 1
		},
	}, func(L *lua.LState, self lua.LValue, key string) lua.LValue {
		lk, ok := self.(*lua.LUserData).Value.(*lockObj)
		if !ok {
			return lua.LNil
		}
		switch key {
		case "key":
			return lua.LString(lk.key)
		case "revision":
			return num(lk.rev)
		case "name":
			return lua.LString(lk.name)
		}
		return lua.LNil
	}, func(L *lua.LState) int {
		lk, ok := L.CheckUserData(1).Value.(*lockObj)
		if !ok {
			return pushString(L, "etcd.lock")
		}
		return pushString(L, "etcd.lock("+strconv.Quote(lk.key)+")")
	})
}

// election is etcd.election(name [, {ttl=}]): an election object, with its
// own session (a lease kept alive until the run ends or e:close()).
func (c *conn) election(L *lua.LState) int {
	const fn = "etcd.election"
	a := c.args(L, fn)
	b := c.off
	name := a.String(b+1, "name")
	o := a.Options(b+2, "opts", electionOptions)
	if name == "" {
		a.Key(b+1, "name") // raises empty_key
	}
	ttl := sessionTTL(&o)
	s, closeSession, err := c.newSession(ttl)
	if err != nil {
		c.m.raise(L, fn, name, err)
	}
	lost := c.watchLost(s, fn, name, o.Function("on_lost"))
	e := &electionObj{c: c, name: name, s: s, e: concurrency.NewElection(s, name), lost: lost,
		close: func() { lost.end(); closeSession() }}
	L.Push(newObject(L, e, c.m.mt.election))
	return 1
}

func (m *Module) electionMeta(L *lua.LState) *lua.LTable {
	return newClass(L, "etcd.election", map[string]lua.LGFunction{
		"campaign": electionCampaign,
		"proclaim": electionProclaim,
		"leader":   electionLeader,
		"resign":   electionResign,
		"close":    electionClose,
		// leadership.go
		"is_leader": electionIsLeader,
		"guard":     electionGuard,
		"observe":   electionObserve,
	}, func(L *lua.LState) int {
		e, ok := L.CheckUserData(1).Value.(*electionObj)
		if !ok {
			return pushString(L, "etcd.election")
		}
		return pushString(L, "etcd.election("+strconv.Quote(e.name)+")")
	})
}

// electionErr gives the election's own errors a code: proclaiming or
// resigning without leading is a misuse of the call. lost says whether this
// candidate led and lost its key (its session's lease expired or was
// revoked), which needs another remedy than never having campaigned.
func electionErr(err error, lost bool) error {
	if errors.Is(err, concurrency.ErrElectionNotLeader) {
		msg := "not the leader of this election: campaign first"
		if lost {
			msg = "not the leader of this election: the leadership was lost (the candidacy's key is gone: its session's lease expired or was revoked); campaign again"
		}
		return &luart.Error{Code: luart.CodeInvalidArgument, Message: msg, Cause: err}
	}
	return err
}

// electionCampaign is e:campaign(value [, {timeout=}]): it waits until this
// candidate leads the election. The wait is bounded by the timeout option
// (lock_timeout when it passes) and the run's context.
func electionCampaign(L *lua.LState) int {
	const fn = "election:campaign"
	e := selfObject[*electionObj](L, fn, "election")
	a := luart.Args{L: L, Fn: fn, Offset: 1}
	value := a.String(2, "value")
	o := a.Options(3, "opts", campaignOptions)
	timeout := o.Duration("timeout", 0)
	ctx, cancel := e.c.m.runCtx(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	err := e.e.Campaign(ctx, value)
	cancel()
	if err != nil {
		if timeout > 0 && errors.Is(err, context.DeadlineExceeded) && e.c.m.runCtx().Err() == nil {
			luart.Raise(L, &luart.Error{Code: luart.CodeLockTimeout, Op: fn, Key: e.name,
				Message: "not elected within " + timeout.String(), Cause: err})
		}
		e.c.m.raise(L, fn, e.name, electionErr(err, false))
	}
	e.hadLed = false
	return 0
}

// electionProclaim is e:proclaim(value): the leader announces a new value.
func electionProclaim(L *lua.LState) int {
	const fn = "election:proclaim"
	e := selfObject[*electionObj](L, fn, "election")
	value := luart.Args{L: L, Fn: fn, Offset: 1}.String(2, "value")
	led := e.e.Key() != ""
	ctx, cancel := e.c.callCtx()
	err := e.e.Proclaim(ctx, value)
	cancel()
	if err != nil {
		if led && errors.Is(err, concurrency.ErrElectionNotLeader) {
			e.hadLed = true
		}
		e.c.m.raise(L, fn, e.name, electionErr(err, e.hadLed))
	}
	return 0
}

// electionLeader is e:leader(): the leader's value and kv, or nil when the
// election has no leader.
func electionLeader(L *lua.LState) int {
	const fn = "election:leader"
	e := selfObject[*electionObj](L, fn, "election")
	ctx, cancel := e.c.callCtx()
	resp, err := e.e.Leader(ctx)
	cancel()
	if errors.Is(err, concurrency.ErrElectionNoLeader) || err == nil && len(resp.Kvs) == 0 {
		luart.NoteNil(L, fn+"()", "the election has no leader", "local v = e:leader(); if v then ... end")
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 2
	}
	if err != nil {
		e.c.m.raise(L, fn, e.name, err)
	}
	kv := resp.Kvs[0]
	L.Push(lua.LString(kv.Value))
	L.Push(kvTable(kv))
	return 2
}

// electionResign is e:resign(): this candidate gives up the lead (or its
// candidacy); the session stays, so it may campaign again.
func electionResign(L *lua.LState) int {
	const fn = "election:resign"
	e := selfObject[*electionObj](L, fn, "election")
	ctx, cancel := e.c.callCtx()
	err := e.e.Resign(ctx)
	cancel()
	if err != nil {
		e.c.m.raise(L, fn, e.name, electionErr(err, e.hadLed))
	}
	e.hadLed = false
	return 0
}

// electionClose is e:close(): it ends the election's session, revoking its
// lease, which resigns as well. The run's end does the same.
func electionClose(L *lua.LState) int {
	e := selfObject[*electionObj](L, "election:close", "election")
	e.close()
	return 0
}
