package bindings

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// Backend is what the module's calls go to. Only Client is required; the
// other fields substitute parts of it.
type Backend struct {
	// Client returns the client the calls go to. It is called on the first
	// call that needs it, not before, so the engine may connect lazily; a
	// successful result is kept for the rest of the run. An error is raised
	// in the script (classified by client.Classify, so a ConnectError reads
	// as unavailable) and the next call asks again.
	//
	// etcd.lock and etcd.election run client/concurrency sessions on this
	// client, whose KV and Watcher fields they use: the overrides below do
	// not reach them. A host that namespaces the module with the overrides
	// sets LockNamespace too.
	Client func() (*client.Client, error)

	// LockNamespace, when set, puts the keys of etcd.lock and
	// etcd.election under this prefix (concurrency.WithNamespace), for a
	// host whose KV and Watcher overrides namespace a client it cannot
	// change.
	LockNamespace string

	// KV, when set, serves get, range, scan, put, delete, compact, put_many
	// and txn instead of the client's KV: the migration runner puts its
	// fencing or buffering KV here. The module calls its Get, GetStream,
	// Put, Delete, Compact and Txn methods.
	KV client.KV

	// Watcher, when set, serves etcd.watch instead of the client's.
	Watcher client.Watcher

	// Lease, when set, serves etcd.lease instead of the client's.
	Lease client.Lease

	// Dial makes the client of etcd.connect{...} from the configuration the
	// script gave; nil means client.New. The module applies the namespace
	// option itself (client/namespace) and closes the client at the end of
	// the run, or when the script calls c:close(). A host that must not let
	// scripts reach other clusters sets a Dial that returns an error.
	Dial func(cfg client.Config) (*client.Client, error)
}

// Module is the etcd module of one run: one Lua state, one Runtime. It is
// made by New, installed by Install (or Table/Loader), and ended by Close.
// Its Lua-facing functions must only be called from the goroutine that owns
// the state; Close may be called from any goroutine.
type Module struct {
	rt *luart.Runtime
	// errs is rt with the client's classification plugged in, so errors
	// get their codes even when the engine set no Classify hook.
	errs luart.Runtime
	loop *luart.Loop
	def  *conn
	dial func(cfg client.Config) (*client.Client, error)

	// Per-state values, built by the first Table call.
	L     *lua.LState
	table *lua.LTable
	mt    metatables
	ids   idCache

	mu     sync.Mutex
	closed bool
	nextID uint64
	live   map[uint64]func() // stop functions of running watches, scans, keepalives, sessions
	conns  []*conn           // clients made by etcd.connect
	wg     sync.WaitGroup    // goroutines the module started
}

// New returns the etcd module of a run with runtime rt, calling b.
func New(rt *luart.Runtime, b Backend) *Module {
	if rt == nil {
		rt = &luart.Runtime{}
	}
	m := &Module{rt: rt, errs: *rt, loop: rt.Loop, dial: b.Dial, live: map[uint64]func(){}}
	if m.errs.Classify == nil {
		m.errs.Classify = classify
	}
	if m.loop == nil {
		// A run without a loop still gets callbacks, dispatched by
		// etcd.wait and pulling watchers; nothing runs them after the
		// main chunk.
		m.loop = luart.NewLoop()
	}
	if m.dial == nil {
		m.dial = client.New
	}
	m.def = &conn{m: m, b: b}
	return m
}

// classify is client.Classify in the shape of Runtime.Classify.
func classify(err error) (string, bool) {
	c := client.Classify(err)
	return string(c.Code), c.Retryable
}

// Install makes the module the global etcd of L and registers it for
// require("etcd").
func (m *Module) Install(L *lua.LState) {
	L.SetGlobal("etcd", m.Table(L))
	L.PreloadModule("etcd", m.Loader)
}

// Loader is a require loader for L.PreloadModule("etcd", mod.Loader): it
// pushes the module table, the same one Table returns.
func (m *Module) Loader(L *lua.LState) int {
	L.Push(m.Table(L))
	return 1
}

// Table returns the module table: the etcd.* functions acting on the
// backend, and etcd.connect, etcd.cmp, etcd.op, etcd.errors, etcd.wait. It is
// built on the first call and the same table is returned after. A Module
// belongs to one state (and its coroutines): given another, Table raises a
// Lua error in it.
func (m *Module) Table(L *lua.LState) *lua.LTable {
	if m.table != nil {
		if L != m.L && L.Get(lua.RegistryIndex) != m.L.Get(lua.RegistryIndex) {
			L.RaiseError("bindings: this etcd module belongs to another Lua state; make one Module per run")
		}
		return m.table
	}
	m.L = L
	m.mt = newMetatables(m, L)
	t := m.def.table(L)
	t.RawSetString("connect", L.NewFunction(m.connect))
	t.RawSetString("wait", L.NewFunction(m.wait))
	t.RawSetString("cmp", m.cmpTable(L))
	t.RawSetString("op", m.opTable(L))
	t.RawSetString("errors", luart.ErrorsTable(L))
	m.table = t
	return t
}

// Close ends what the module started for the run: it cancels watches, lease
// keepalives and open scans, closes lock and election sessions (revoking
// their leases), closes the clients made by etcd.connect, and waits for the
// module's goroutines to return. Callbacks still queued are left to the
// loop's owner. Close is idempotent; the module must not be used after it.
func (m *Module) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	stops := make([]func(), 0, len(m.live))
	for _, stop := range m.live {
		stops = append(stops, stop)
	}
	m.live = nil
	conns := m.conns
	m.conns = nil
	m.mu.Unlock()

	for _, stop := range stops {
		stop()
	}
	var errs []error
	for _, c := range conns {
		if err := c.closeClient(); err != nil {
			errs = append(errs, err)
		}
	}
	m.wg.Wait()
	if m.rt.Loop == nil {
		m.loop.Close()
	}
	return errors.Join(errs...)
}

// track registers the stop function of something running, for Close. It
// returns an untrack function to call when the thing ends on its own, and
// false (without registering) once the module is closed.
func (m *Module) track(stop func()) (untrack func(), ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return func() {}, false
	}
	m.nextID++
	id := m.nextID
	m.live[id] = stop
	return func() {
		m.mu.Lock()
		delete(m.live, id)
		m.mu.Unlock()
	}, true
}

// goroutine runs fn on a goroutine Close waits for.
func (m *Module) goroutine(fn func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		fn()
	}()
}

// raise raises err as the error object of op and key. It does not return.
func (m *Module) raise(L *lua.LState, op, key string, err error) {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		// An error that came out of Lua (a callback) travels unchanged.
		L.Error(ae.Object, 0)
	}
	luart.Raise(L, m.newError(op, key, err))
}

// newError makes the error object of op and key. An error object made
// here without an op (leaseErr, lostErr) gets op and key filled in.
func (m *Module) newError(op, key string, err error) *luart.Error {
	e := m.errs.NewError(op, key, err)
	if e.Op == "" {
		c := *e
		c.Op = op
		if c.Key == "" {
			c.Key = key
		}
		e = &c
	}
	return e
}

// errorValue makes the error object of op and key, for on_error callbacks.
func (m *Module) errorValue(L *lua.LState, op, key string, err error) lua.LValue {
	return luart.ErrorValue(L, m.newError(op, key, err))
}

// runCtx is the run's context.
func (m *Module) runCtx() context.Context { return m.rt.Context() }

// conn is one client as the script sees it: the module's default client, or
// one made by etcd.connect. Its functions read their arguments after off
// stack slots: 0 for module functions (etcd.get(k)), 1 for the methods of
// a client object (c:get(k)), whose self is checked to be that object.
type conn struct {
	m    *Module
	b    Backend
	off  int
	self *lua.LTable // the client object, for methods

	// timeout, when set, replaces the run's per-call timeout: the
	// command_timeout of etcd.connect.
	timeout    time.Duration
	hasTimeout bool

	mu       sync.Mutex
	cli      *client.Client
	kvAPI    client.KV
	closed   bool
	dialed   bool
	leaseTab *lua.LTable
	kas      map[client.LeaseID]*keepalive
}

// errClosed is raised by calls on a client object after c:close().
var errClosed = client.ErrClientClosed

// client returns the connection's client, asking the backend on first use.
func (c *conn) client() (*client.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed
	}
	if c.cli != nil {
		return c.cli, nil
	}
	if c.b.Client == nil {
		return nil, errors.New("no etcd client configured for this run")
	}
	cli, err := c.b.Client()
	if err != nil {
		return nil, err
	}
	if cli == nil {
		return nil, errors.New("the run's client is not available")
	}
	c.cli = cli
	return cli, nil
}

// kv returns the KV the key-value calls go to. It is only called on the
// script's goroutine, which is also the only one that sets kvAPI.
func (c *conn) kv() (client.KV, error) {
	if c.kvAPI != nil {
		return c.kvAPI, nil
	}
	kv := c.b.KV
	if kv == nil {
		cli, err := c.client()
		if err != nil {
			return nil, err
		}
		kv = cli.KV
	}
	c.kvAPI = kv
	return kv, nil
}

// watcher returns the Watcher etcd.watch goes to.
func (c *conn) watcher() (client.Watcher, error) {
	if c.b.Watcher != nil {
		return c.b.Watcher, c.checkOpen()
	}
	cli, err := c.client()
	if err != nil {
		return nil, err
	}
	return cli.Watcher, nil
}

// lease returns the Lease etcd.lease goes to.
func (c *conn) lease() (client.Lease, error) {
	if c.b.Lease != nil {
		return c.b.Lease, c.checkOpen()
	}
	cli, err := c.client()
	if err != nil {
		return nil, err
	}
	return cli.Lease, nil
}

func (c *conn) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	return nil
}

// callCtx returns the context of one call: the run's context bounded by the
// per-call timeout.
func (c *conn) callCtx() (context.Context, context.CancelFunc) {
	if !c.hasTimeout {
		return c.m.rt.CallContext()
	}
	if c.timeout <= 0 {
		return c.m.runCtx(), func() {}
	}
	return context.WithTimeout(c.m.runCtx(), c.timeout)
}

// callTimeout is the per-call timeout in force, 0 for none.
func (c *conn) callTimeout() time.Duration {
	if c.hasTimeout {
		return c.timeout
	}
	return c.m.rt.CallTimeout
}

// args starts the argument checks of function fn. For a method, it checks
// that self is this client object first.
func (c *conn) args(L *lua.LState, fn string) luart.Args {
	a := luart.Args{L: L, Fn: fn, Offset: c.off}
	if c.off == 1 && L.Get(1) != c.self {
		short := strings.TrimPrefix(fn, "etcd.")
		luart.ArgError(L, fn, "#0 (self)", "call it as a method of the client object: c:%s(...)", short)
	}
	return a
}

// connFunc is one function of a client: etcd.get, or c:get.
type connFunc struct {
	name string
	fn   func(c *conn, L *lua.LState) int
}

// connFuncs are the functions every client offers, as module functions of
// the default client and as methods of client objects.
var connFuncs = []connFunc{
	{"get", (*conn).get},
	{"range", (*conn).rangeFn},
	{"scan", (*conn).scan},
	{"put", (*conn).put},
	{"delete", (*conn).delete},
	{"compact", (*conn).compact},
	{"put_many", (*conn).putMany},
	{"txn", (*conn).txn},
	{"watch", (*conn).watch},
	{"lock", (*conn).lock},
	{"election", (*conn).election},
	{"endpoints", (*conn).endpoints},
	{"members", (*conn).members},
	{"status", (*conn).status},
	{"health", (*conn).health},
	{"alarms", (*conn).alarms},
	{"alarm_disarm", (*conn).alarmDisarm},
	{"defragment", (*conn).defragment},
	{"hash_kv", (*conn).hashKV},
	{"snapshot", (*conn).snapshot},
}

// table builds the functions of c into a new table, with c.lease.
func (c *conn) table(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, len(connFuncs)+8)
	for _, f := range connFuncs {
		fn := f.fn
		t.RawSetString(f.name, L.NewFunction(func(L *lua.LState) int { return fn(c, L) }))
	}
	t.RawSetString("lease", c.leaseTable(L))
	return t
}

// closeClient closes a client made by etcd.connect and ends what runs on it.
func (c *conn) closeClient() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cli, dialed := c.cli, c.dialed
	c.mu.Unlock()
	if cli == nil || !dialed {
		return nil
	}
	return cli.Close()
}
