package bindings

import (
	"context"
	"errors"
	"math"

	lua "github.com/yuin/gopher-lua"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// leaseObj is a lease as the script sees it: l.id (LEASE_ID, a hex
// string), l.granted_ttl, and the methods keepalive, keepalive_once, ttl
// and revoke.
type leaseObj struct {
	c       *conn
	id      client.LeaseID
	idStr   lua.LString
	granted int64
}

// keepalive is a lease kept alive in the background.
type keepalive struct {
	cancel context.CancelFunc
	onLost *lua.LFunction // read on the script's goroutine only
}

var (
	keepaliveOptions = luart.NewOptionSet("on_lost")
	ttlOptions       = luart.NewOptionSet("keys")
)

// leaseTable builds c.lease: grant, list and get, called with a dot.
func (c *conn) leaseTable(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 3)
	t.RawSetString("grant", L.NewFunction(c.leaseGrant))
	t.RawSetString("list", L.NewFunction(c.leaseList))
	t.RawSetString("get", L.NewFunction(c.leaseGet))
	c.leaseTab = t
	return t
}

func (c *conn) newLease(L *lua.LState, id client.LeaseID, granted int64) *lua.LUserData {
	return newObject(L, &leaseObj{c: c, id: id, idStr: leaseHex(int64(id)), granted: granted}, c.m.mt.lease)
}

// leaseGrant is etcd.lease.grant(ttl): a lease object. A TTL with a
// fraction is rounded up to whole seconds, the unit of etcd's TTLs.
func (c *conn) leaseGrant(L *lua.LState) int {
	const fn = "etcd.lease.grant"
	a := luart.Args{L: L, Fn: fn}
	secs := a.Number(1, "ttl")
	if !(secs > 0) || math.IsInf(secs, 0) || secs > math.MaxInt32 {
		a.Fail(1, "ttl", "a number of seconds from 1 to 2147483647 (2^31-1, etcd's limit) expected, got %v", secs)
	}
	ttl := int64(math.Ceil(secs))
	lease, err := c.lease()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	ctx, cancel := c.callCtx()
	resp, err := lease.Grant(ctx, ttl)
	cancel()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	L.Push(c.newLease(L, resp.ID, resp.TTL))
	return 1
}

// leaseList is etcd.lease.list(): an array of LEASE_ID.
func (c *conn) leaseList(L *lua.LState) int {
	const fn = "etcd.lease.list"
	if L.GetTop() > 0 {
		luart.ArgError(L, fn, "#1", "no arguments expected, got %s", L.Get(1).Type().String())
	}
	lease, err := c.lease()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	ctx, cancel := c.callCtx()
	resp, err := lease.Leases(ctx)
	cancel()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	t := luart.NewArray(L, len(resp.Leases))
	for _, l := range resp.Leases {
		t.Append(leaseHex(int64(l.ID)))
	}
	L.Push(t)
	return 1
}

// leaseGet is etcd.lease.get(LEASE_ID): the lease object of an existing
// lease; lease_not_found when there is none.
func (c *conn) leaseGet(L *lua.LState) int {
	const fn = "etcd.lease.get"
	a := luart.Args{L: L, Fn: fn}
	id := argLease(a, 1, "id")
	lease, err := c.lease()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	ctx, cancel := c.callCtx()
	resp, err := lease.TimeToLive(ctx, id)
	cancel()
	if err == nil && resp.TTL < 0 {
		err = rpctypes.ErrLeaseNotFound
	}
	if err != nil {
		c.m.raise(L, fn, "", leaseErr(id, err))
	}
	L.Push(c.newLease(L, id, resp.GrantedTTL))
	return 1
}

// leaseErr names the lease in a lease_not_found error.
func leaseErr(id client.LeaseID, err error) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return &luart.Error{Code: luart.CodeLeaseNotFound, Message: "lease " + string(leaseHex(int64(id))) + " not found", Cause: err}
	}
	return err
}

func (m *Module) leaseMeta(L *lua.LState) *lua.LTable {
	return newFieldClass(L, "etcd.lease", map[string]lua.LGFunction{
		"keepalive":      leaseKeepAlive,
		"keepalive_once": leaseKeepAliveOnce,
		"ttl":            leaseTTL,
		"revoke":         leaseRevoke,
	}, func(L *lua.LState, self lua.LValue, key string) lua.LValue {
		l, ok := self.(*lua.LUserData).Value.(*leaseObj)
		if !ok {
			return lua.LNil
		}
		switch key {
		case "id":
			return l.idStr
		case "granted_ttl":
			return num(l.granted)
		}
		return lua.LNil
	}, describeAs("etcd.lease", func(l *leaseObj) string { return string(l.idStr) }))
}

// leaseKeepAlive is l:keepalive([{on_lost = fn}]): it keeps the lease alive
// in the background until it is revoked or the run ends, and returns l.
// on_lost(err) runs at a dispatch point if the lease expires or cannot be
// renewed. A keepalive does not keep the run going after the main chunk:
// only watches do. Calling it again replaces on_lost.
func leaseKeepAlive(L *lua.LState) int {
	const fn = "lease:keepalive"
	l := selfObject[*leaseObj](L, fn, "lease")
	a := luart.Args{L: L, Fn: fn, Offset: 1}
	o := a.Options(2, "opts", keepaliveOptions)
	onLost := o.Function("on_lost")
	c, m := l.c, l.c.m
	if c.kas == nil {
		c.kas = map[client.LeaseID]*keepalive{}
	}
	if ka := c.kas[l.id]; ka != nil {
		ka.onLost = onLost
		L.Push(L.Get(1))
		return 1
	}
	lease, err := c.lease()
	if err != nil {
		m.raise(L, fn, "", err)
	}
	ctx, cancel := context.WithCancel(m.runCtx())
	untrack, ok := m.track(cancel)
	if !ok {
		cancel()
		m.raise(L, fn, "", context.Canceled)
	}
	ch, err := lease.KeepAlive(ctx, l.id)
	if err != nil {
		cancel()
		untrack()
		m.raise(L, fn, "", leaseErr(l.id, err))
	}
	ka := &keepalive{cancel: cancel, onLost: onLost}
	c.kas[l.id] = ka
	id := l.id
	// Its on_lost may still come, so etcd.wait(seconds) waits for it.
	source := m.loop.Source()
	m.goroutine(func() {
		defer untrack()
		defer source()
		for range ch {
		}
		if ctx.Err() != nil {
			return // revoked or stopped by the script, or the run is over
		}
		reason := client.KeepAliveError(ch)
		if reason == nil {
			reason = errors.New("keepalive ended")
		}
		cancel()
		m.loop.Post(m.runCtx(), func(L *lua.LState) error {
			if c.kas[id] == ka {
				delete(c.kas, id)
			}
			if ka.onLost == nil {
				return nil
			}
			L.Push(ka.onLost)
			L.Push(m.errorValue(L, fn, "", lostErr(id, reason)))
			L.Call(1, 0)
			return nil
		})
	})
	L.Push(L.Get(1))
	return 1
}

// lostErr words why a keepalive ended: a lease that expired or was revoked
// elsewhere reads as lease_not_found; other causes keep their own code.
func lostErr(id client.LeaseID, reason error) error {
	if errors.Is(reason, client.ErrLeaseExpired) || errors.Is(reason, rpctypes.ErrLeaseNotFound) || errors.Is(reason, client.ErrLeaseRevoked) {
		return &luart.Error{Code: luart.CodeLeaseNotFound, Message: "lease " + string(leaseHex(int64(id))) + " lost: " + reason.Error(), Cause: reason}
	}
	return reason
}

// stopKeepAlive ends the background keepalive of id, if any.
func (c *conn) stopKeepAlive(id client.LeaseID) {
	if ka := c.kas[id]; ka != nil {
		ka.cancel()
		delete(c.kas, id)
	}
}

// leaseKeepAliveOnce is l:keepalive_once(): it renews the lease once and
// returns the new TTL.
func leaseKeepAliveOnce(L *lua.LState) int {
	const fn = "lease:keepalive_once"
	l := selfObject[*leaseObj](L, fn, "lease")
	if L.GetTop() > 1 {
		luart.ArgError(L, fn, "#1", "no arguments expected, got %s", L.Get(2).Type().String())
	}
	lease, err := l.c.lease()
	if err != nil {
		l.c.m.raise(L, fn, "", err)
	}
	ctx, cancel := l.c.callCtx()
	resp, err := lease.KeepAliveOnce(ctx, l.id)
	cancel()
	if err != nil {
		l.c.m.raise(L, fn, "", leaseErr(l.id, err))
	}
	L.Push(num(resp.TTL))
	return 1
}

// leaseTTL is l:ttl([{keys = true}]): {ttl, granted_ttl, keys}; ttl is -1
// once the lease has expired. keys (an array) is there only when asked for.
func leaseTTL(L *lua.LState) int {
	const fn = "lease:ttl"
	l := selfObject[*leaseObj](L, fn, "lease")
	a := luart.Args{L: L, Fn: fn, Offset: 1}
	o := a.Options(2, "opts", ttlOptions)
	withKeys := o.Bool("keys", false)
	lease, err := l.c.lease()
	if err != nil {
		l.c.m.raise(L, fn, "", err)
	}
	var opts []client.LeaseOption
	if withKeys {
		opts = append(opts, client.WithAttachedKeys())
	}
	ctx, cancel := l.c.callCtx()
	resp, err := lease.TimeToLive(ctx, l.id, opts...)
	cancel()
	if err != nil {
		l.c.m.raise(L, fn, "", leaseErr(l.id, err))
	}
	t := L.CreateTable(0, 3)
	t.RawSetString("ttl", num(resp.TTL))
	t.RawSetString("granted_ttl", num(resp.GrantedTTL))
	if withKeys {
		keys := luart.NewArray(L, len(resp.Keys))
		for _, k := range resp.Keys {
			keys.Append(lua.LString(k))
		}
		t.RawSetString("keys", keys)
	}
	L.Push(t)
	return 1
}

// leaseRevoke is l:revoke(): it ends the lease and its keepalive; the keys
// attached to it are deleted.
func leaseRevoke(L *lua.LState) int {
	const fn = "lease:revoke"
	l := selfObject[*leaseObj](L, fn, "lease")
	if L.GetTop() > 1 {
		luart.ArgError(L, fn, "#1", "no arguments expected, got %s", L.Get(2).Type().String())
	}
	lease, err := l.c.lease()
	if err != nil {
		l.c.m.raise(L, fn, "", err)
	}
	l.c.stopKeepAlive(l.id)
	ctx, cancel := l.c.callCtx()
	_, err = lease.Revoke(ctx, l.id)
	cancel()
	if err != nil {
		l.c.m.raise(L, fn, "", leaseErr(l.id, err))
	}
	return 0
}
