package bindings_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/internal/luatest"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// run runs src in e's state and fails the test on an error.
func (e *env) run(t *testing.T, src string) {
	t.Helper()
	luatest.Install(e.L)
	if err := e.L.DoString(src); err != nil {
		t.Fatal(luatest.Describe(err))
	}
}

func (e *env) global(name string) lua.LValue { return e.L.GetGlobal(name) }

// TestWatchKeepsRunAlive: after the main chunk returns, the run goes on
// while a callback watch is active, and ends when the last one ends.
func TestWatchKeepsRunAlive(t *testing.T) {
	e := newEnv(t, "bt/alive/", envOptions{})
	defer e.close()
	e.run(t, `
		seen_a, seen_b = 0, 0
		etcd.watch(PREFIX .. "a", {}, function(ev)
			seen_a = seen_a + 1
			if ev.kv.value == "stop" then return false end
		end)
		etcd.watch(PREFIX .. "b", {}, function(ev)
			seen_b = seen_b + 1
			if ev.kv.value == "stop" then return false end
		end)
	`)
	if n := e.rt.Loop.Active(); n != 2 {
		t.Fatalf("holds after the main chunk = %d, want 2", n)
	}
	done := make(chan error, 1)
	go func() { done <- e.drain() }()
	put := func(k, v string) {
		if _, err := e.cli.Put(e.ctx, e.prefix+k, v); err != nil {
			t.Fatal(err)
		}
	}
	put("a", "1")
	put("a", "stop")
	put("a", "after") // not seen: the watch has ended
	select {
	case err := <-done:
		t.Fatalf("the run ended with a watch left (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	put("b", "stop")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end when the last watch ended")
	}
	if a, b := e.global("seen_a"), e.global("seen_b"); a != lua.LNumber(2) || b != lua.LNumber(1) {
		t.Fatalf("seen_a, seen_b = %v, %v; want 2, 1", a, b)
	}
}

// TestWatchErrorEndsRun: a watch ending with an error nobody handles ends
// the run's dispatching with that error, as an uncaught error would.
func TestWatchErrorEndsRun(t *testing.T) {
	e := newEnv(t, "bt/werr/", envOptions{})
	defer e.close()
	r1, err := e.cli.Put(e.ctx, e.prefix+"k", "1")
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := e.cli.Put(e.ctx, e.prefix+"k", "2")
	if _, err := e.cli.Compact(e.ctx, r2.Header.Revision); err != nil {
		t.Fatal(err)
	}
	e.run(t, fmt.Sprintf(`etcd.watch(PREFIX .. "k", {rev = %d}, function() end)`, r1.Header.Revision))
	err = e.drain()
	le, ok := luart.FromError(err)
	if !ok || le.Code != luart.CodeCompacted || le.Op != "etcd.watch" || le.Key != e.prefix+"k" {
		t.Fatalf("drain = %v, want a compacted error of etcd.watch", err)
	}
	if n := e.rt.Loop.Active(); n != 0 {
		t.Fatalf("holds = %d after the watch ended", n)
	}
}

// TestScriptTimeout: the run's deadline ends a wait with script_timeout.
func TestScriptTimeout(t *testing.T) {
	e := newEnv(t, "bt/timeout/", envOptions{runTimeout: 500 * time.Millisecond})
	defer e.close()
	luatest.Install(e.L)
	err := e.L.DoString(`
		etcd.watch(PREFIX .. "never", {}, function() end)
		etcd.wait()
	`)
	le, ok := luart.FromError(err)
	if !ok || le.Code != luart.CodeScriptTimeout || le.Op != "etcd.wait" || le.Retryable {
		t.Fatalf("err = %v, want a script_timeout error of etcd.wait", err)
	}
}

// unimplementedStream is a KV whose GetStream is refused, as by a server
// older than etcd 3.7.
type unimplementedStream struct {
	client.KV
	gets atomic.Int64
}

func (k *unimplementedStream) GetStream(ctx context.Context, key string, opts ...client.OpOption) (client.GetStreamChan, error) {
	return nil, status.Error(codes.Unimplemented, "unknown method RangeStream")
}

func (k *unimplementedStream) Get(ctx context.Context, key string, opts ...client.OpOption) (*client.GetResponse, error) {
	k.gets.Add(1)
	return k.KV.Get(ctx, key, opts...)
}

// Do counts gets too: a namespaced KV reads through Do.
func (k *unimplementedStream) Do(ctx context.Context, op client.Op) (client.OpResponse, error) {
	if op.IsGet() {
		k.gets.Add(1)
	}
	return k.KV.Do(ctx, op)
}

// TestScanPagedFallback: without a streamed range, a scan pages with Range
// at the revision of its first page.
func TestScanPagedFallback(t *testing.T) {
	kv := &unimplementedStream{}
	e := newEnv(t, "bt/paged/", envOptions{backend: func(cli *client.Client) bindings.Backend {
		kv.KV = cli.KV
		return bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }, KV: kv}
	}})
	defer e.close()
	e.run(t, `
		local n = 2500
		local items = {}
		for i = 1, n do items[i] = {string.format("%sk/%05d", PREFIX, i), "v" .. i} end
		local w = etcd.put_many(items)
		local it = etcd.scan(PREFIX .. "k/", {prefix = true, page_size = 100})
		local wait = background_puts(PREFIX .. "k/", 2000)
		local count, last = 0, ""
		for kv in it do
			count = count + 1
			assert(kv.key > last)
			last = kv.key
			assert.eq(kv.value:sub(1, 1), "v", kv.key)
			if count % 500 == 0 then sleep(0.02) end
		end
		assert.eq(count, n)
		wait()
		count = 0
		for kv in etcd.scan(PREFIX .. "k/", {prefix = true, page_size = 999, limit = 1500}) do count = count + 1 end
		assert.eq(count, 1500)
		count = 0
		for kv in etcd.scan(PREFIX .. "k/00010", {range_end = PREFIX .. "k/00020", page_size = 3}) do count = count + 1 end
		assert.eq(count, 10)
		count = 0
		for kv in etcd.scan(PREFIX .. "k/00007") do count = count + 1 end
		assert.eq(count, 1)
	`)
	// 25 pages of 100 (+1 to see the end), then 2 pages, then 4, then 1.
	if got := kv.gets.Load(); got < 30 {
		t.Fatalf("scans made %d Range calls; they did not page", got)
	}
}

// recordingKV is a KV that fences every write, as the migration runner's
// facade does: it counts the calls and adds a compare that must hold to
// every txn it sends, turning plain puts and deletes into txns.
type recordingKV struct {
	client.KV
	fence client.Cmp
	calls map[string]*atomic.Int64
}

func (k *recordingKV) count(name string) { k.calls[name].Add(1) }

func (k *recordingKV) Put(ctx context.Context, key, val string, opts ...client.OpOption) (*client.PutResponse, error) {
	k.count("Put")
	resp, err := k.KV.Txn(ctx).If(k.fence).Then(client.OpPut(key, val, opts...)).Commit()
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		return nil, errFenced
	}
	return (*client.PutResponse)(resp.Responses[0].GetResponsePut()), nil
}

func (k *recordingKV) Get(ctx context.Context, key string, opts ...client.OpOption) (*client.GetResponse, error) {
	k.count("Get")
	return k.KV.Get(ctx, key, opts...)
}

func (k *recordingKV) GetStream(ctx context.Context, key string, opts ...client.OpOption) (client.GetStreamChan, error) {
	k.count("GetStream")
	return k.KV.GetStream(ctx, key, opts...)
}

func (k *recordingKV) Delete(ctx context.Context, key string, opts ...client.OpOption) (*client.DeleteResponse, error) {
	k.count("Delete")
	return k.KV.Delete(ctx, key, opts...)
}

func (k *recordingKV) Txn(ctx context.Context) client.Txn {
	k.count("Txn")
	return &fencedTxn{Txn: k.KV.Txn(ctx), fence: k.fence}
}

type fencedTxn struct {
	client.Txn
	fence client.Cmp
	cmps  []client.Cmp
	then  []client.Op
	els   []client.Op
}

func (t *fencedTxn) If(cs ...client.Cmp) client.Txn   { t.cmps = append(t.cmps, cs...); return t }
func (t *fencedTxn) Then(ops ...client.Op) client.Txn { t.then = append(t.then, ops...); return t }
func (t *fencedTxn) Else(ops ...client.Op) client.Txn { t.els = append(t.els, ops...); return t }
func (t *fencedTxn) Commit() (*client.TxnResponse, error) {
	// The fence goes in an outer txn, so the script's own compares still
	// choose its branches.
	resp, err := t.Txn.If(t.fence).Then(client.OpTxn(t.cmps, t.then, t.els)).Commit()
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		return nil, errFenced
	}
	return (*client.TxnResponse)(resp.Responses[0].GetResponseTxn()), nil
}

var errFenced = errors.New("fenced: the migration lock is lost")

// TestBackendKV: a substituted KV serves every key-value call, so a
// migration runner can wrap the module as its fenced facade.
func TestBackendKV(t *testing.T) {
	rec := &recordingKV{calls: map[string]*atomic.Int64{}}
	for _, n := range []string{"Put", "Get", "GetStream", "Delete", "Txn"} {
		rec.calls[n] = new(atomic.Int64)
	}
	e := newEnv(t, "bt/backend/", envOptions{backend: func(cli *client.Client) bindings.Backend {
		rec.KV = cli.KV
		rec.fence = client.Compare(client.Value("bt/backend/fence"), "=", "held")
		return bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }, KV: rec}
	}})
	defer e.close()
	if _, err := e.cli.Put(e.ctx, "bt/backend/fence", "held"); err != nil {
		t.Fatal(err)
	}
	e.run(t, `
		etcd.put(PREFIX .. "a", "1")
		assert.eq(etcd.get(PREFIX .. "a").value, "1")
		assert.eq(#etcd.range(PREFIX, {prefix = true}).kvs, 2)
		for kv in etcd.scan(PREFIX .. "a") do end
		local r = etcd.txn():compare(etcd.cmp.value(PREFIX .. "a", "==", "x")):failure(etcd.op.get(PREFIX .. "a")):commit()
		assert.eq(r.succeeded, false)
		assert.eq(r.responses[1].kvs[1].value, "1")
		assert.eq(etcd.put_many({{PREFIX .. "b", "2"}, {PREFIX .. "c", "3"}}).written, 2)
		etcd.delete(PREFIX .. "c")
		-- with the fence gone, every write fails
		go_put(PREFIX .. "fence", "lost")
		local err = assert.error(function() etcd.put(PREFIX .. "a", "2") end)
		assert.match(tostring(err), "fenced")
		assert.eq(err.op, "etcd.put")
		assert.error(function() etcd.txn({success = {etcd.op.put(PREFIX .. "a", "2")}}) end, "fenced")
		err = assert.error(function() etcd.put_many({{PREFIX .. "d", "4"}}) end, "fenced")
		assert.match(err.message, "0 keys were written")
		assert.eq(etcd.get(PREFIX .. "a").value, "1")
	`)
	for name, n := range rec.calls {
		if n.Load() == 0 {
			t.Errorf("the substituted KV's %s was never called", name)
		}
	}
}

// TestLazyClient: the backend's client is asked for on first use; an error
// is raised in the script, and a later call asks again.
func TestLazyClient(t *testing.T) {
	var asked atomic.Int64
	var cli *client.Client
	e := newEnv(t, "bt/lazy/", envOptions{backend: func(c *client.Client) bindings.Backend {
		cli = c
		return bindings.Backend{Client: func() (*client.Client, error) {
			if asked.Add(1) == 1 {
				return nil, &client.ConnectError{Err: context.DeadlineExceeded, Endpoint: "127.0.0.1:1", Cause: errors.New("connection refused")}
			}
			return cli, nil
		}}
	}})
	defer e.close()
	if asked.Load() != 0 {
		t.Fatal("the client was asked for before any call")
	}
	e.run(t, `
		assert.eq(etcd.errors.UNAVAILABLE, "unavailable")
		local err = assert.error(function() etcd.get(PREFIX .. "x") end, "unavailable")
		assert.eq(err.retryable, true)
		assert.eq(etcd.get(PREFIX .. "x"), nil)
		etcd.put(PREFIX .. "x", "1")
	`)
	if got := asked.Load(); got != 2 {
		t.Fatalf("the client was asked for %d times, want 2", got)
	}
}

// TestCloseEndsEverything: Module.Close ends watches, keepalives, scans,
// sessions and clients left running (goleak in TestMain checks that no
// goroutine is left).
func TestCloseEndsEverything(t *testing.T) {
	e := newEnv(t, "bt/close/", envOptions{})
	defer e.close()
	e.run(t, `
		etcd.watch(PREFIX .. "w", {}, function() end)
		for i = 1, 30 do etcd.put(PREFIX .. "s/" .. i, "v") end
		etcd.lease.grant(30):keepalive()
		pulled = etcd.watch(PREFIX .. "w")
		local it = etcd.scan(PREFIX .. "s/", {prefix = true})
		assert(it().key)
		election = etcd.election(PREFIX .. "e")
		election:campaign("me")
		local c = etcd.connect({endpoints = ENDPOINTS})
		c:watch(PREFIX .. "w", {}, function() end)
		c.lease.grant(30):keepalive()
	`)
	if n := e.rt.Loop.Active(); n != 2 {
		t.Fatalf("holds = %d, want 2 (the callback watches)", n)
	}
	if err := e.mod.Close(); err != nil {
		t.Fatal(err)
	}
	if n := e.rt.Loop.Active(); n != 0 {
		t.Fatalf("holds = %d after Close", n)
	}
	// The election's session was closed: its lease is revoked, so the
	// leader key is gone.
	resp, err := e.cli.Get(e.ctx, e.prefix+"e", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 0 {
		t.Fatalf("the election's key outlived Close: %v", resp.Kvs)
	}
}

// TestModuleTable: Install gives the same table to the global and require.
func TestModuleTable(t *testing.T) {
	e := newEnv(t, "bt/table/", envOptions{})
	defer e.close()
	e.run(t, `
		local m = require("etcd")
		assert.eq(rawequal(m, etcd), true)
		for _, name in ipairs({"get", "range", "scan", "put", "delete", "compact", "put_many", "txn",
		                       "watch", "wait", "lock", "election", "connect"}) do
			assert.eq(type(etcd[name]), "function", name)
		end
		for _, name in ipairs({"grant", "list", "get"}) do
			assert.eq(type(etcd.lease[name]), "function", name)
		end
		for _, name in ipairs({"value", "version", "create_revision", "mod_revision", "lease"}) do
			assert.eq(type(etcd.cmp[name]), "function", name)
		end
		for _, name in ipairs({"get", "put", "delete", "txn"}) do
			assert.eq(type(etcd.op[name]), "function", name)
		end
	`)
}

// TestAuthErrors: a cluster with authentication gives auth_failed for a
// wrong password and permission_denied for what a user may not do.
func TestAuthErrors(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	admin, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "root"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "reader", "pw"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "app-read"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "app-read", "app/", client.GetPrefixRangeEnd("app/"), client.PermissionType(client.PermRead))
			return err
		},
		func() error { _, err := admin.UserGrantRole(ctx, "reader", "app-read"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	admin.Close()
	e := newEnv(t, "app/", envOptions{cluster: cl, username: "root", password: "rootpw"})
	defer e.close()
	e.run(t, `
		etcd.put("app/x", "1")
		local err = assert.error(function()
			etcd.connect({endpoints = ENDPOINTS, username = "reader", password = "wrong"})
		end, "auth_failed")
		assert.eq(err.op, "etcd.connect")
		local c = etcd.connect({endpoints = ENDPOINTS, username = "reader", password = "pw"})
		assert.eq(c:get("app/x").value, "1")
		err = assert.error(function() c:put("app/x", "2") end, "permission_denied")
		assert.eq(err.key, "app/x")
		assert.error(function() c:get("other") end, "permission_denied")
		assert.error(function() c:watch("other") end, "permission_denied")
		assert.error(function() c:txn({success = {etcd.op.put("app/y", "v")}}) end, "permission_denied")
		c:close()
	`)
}

// TestConnectTLS: etcd.connect reads the CA, certificate and key files of a
// cluster that serves TLS and requires client certificates; a sandboxed run
// may not read them.
func TestConnectTLS(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{ClientTLS: true})
	e := newEnv(t, "bt/tls/", envOptions{})
	defer e.close()
	f := cl.TLS()
	e.L.SetGlobal("TLS_ENDPOINT", lua.LString(cl.Endpoints()[0]))
	e.L.SetGlobal("CA", lua.LString(f.CAFile))
	e.L.SetGlobal("CERT", lua.LString(f.CertFile))
	e.L.SetGlobal("KEY", lua.LString(f.KeyFile))
	e.run(t, `
		local c = etcd.connect({endpoints = {TLS_ENDPOINT}, cacert = CA, cert = CERT, key = KEY})
		c:put("k", "over tls")
		assert.eq(c:get("k").value, "over tls")
		c:close()
		-- without the client certificate the server refuses the handshake
		assert.error(function()
			etcd.connect({endpoints = {TLS_ENDPOINT}, cacert = CA, dial_timeout = 0.5})
		end, "unavailable")
		local err = assert.error(function()
			etcd.connect({endpoints = {TLS_ENDPOINT}, cacert = CA, cert = CERT})
		end, "invalid_argument")
		assert.match(err.message, "opts.cert")
		err = assert.error(function()
			etcd.connect({endpoints = {TLS_ENDPOINT}, cacert = "/nonexistent/ca.pem"})
		end, "invalid_argument")
		assert.match(err.message, "opts.cacert")
	`)
	sandboxed := newEnv(t, "bt/tls2/", envOptions{})
	defer sandboxed.close()
	sandboxed.rt.Sandbox = true
	sandboxed.L.SetGlobal("CA", lua.LString(f.CAFile))
	sandboxed.run(t, `
		local err = assert.error(function()
			etcd.connect({endpoints = ENDPOINTS, cacert = CA})
		end, "invalid_argument")
		assert.match(err.message, "sandbox")
	`)
}

// TestLuaScanPaged runs the scan tests over a KV whose GetStream is
// refused, so that every scan pages with Range (whole keyspace included).
func TestLuaScanPaged(t *testing.T) {
	e := newEnv(t, "bt/scan-paged/", envOptions{backend: func(cli *client.Client) bindings.Backend {
		return bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }, KV: &unimplementedStream{KV: cli.KV}}
	}})
	defer e.close()
	luatest.Run(t, e.L, filepath.Join("testdata", "scan.lua"))
}

// TestScanPagedNamespace: a namespaced scan of the whole namespace pages
// from the namespace's first key when the stream is refused.
func TestScanPagedNamespace(t *testing.T) {
	kv := &unimplementedStream{}
	e := newEnv(t, "bt/paged-ns/", envOptions{backend: func(cli *client.Client) bindings.Backend {
		kv.KV = cli.KV
		return bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }, KV: namespace.NewKV(kv, "bt/paged-ns/in/")}
	}})
	defer e.close()
	if _, err := e.cli.Put(e.ctx, "bt/paged-ns/out", "outside"); err != nil {
		t.Fatal(err)
	}
	e.run(t, `
		for i = 1, 12 do etcd.put(string.format("%02d", i), "v") end
		for _, opts in ipairs({{prefix = true}, {from_key = true}, {prefix = true, page_size = 5}}) do
			local got = {}
			for kv in etcd.scan("", opts) do got[#got + 1] = kv.key end
			assert.eq(#got, 12)
			assert.eq(got[1], "01")
			assert.eq(got[12], "12")
		end
	`)
	if kv.gets.Load() < 5 {
		t.Fatalf("the scans made %d Range calls; they did not page", kv.gets.Load())
	}
}
