package engine_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// etcdRun runs src against the shared cluster, with cfgs applied.
func etcdRun(t *testing.T, src string, cfgs ...func(*engine.Config)) *enginetest.Outcome {
	t.Helper()
	opts := []enginetest.Option{enginetest.WithCluster(sharedCluster(t)), enginetest.WithName("test.lua")}
	for _, fn := range cfgs {
		opts = append(opts, enginetest.WithConfig(fn))
	}
	return enginetest.Run(t, src, opts...)
}

func TestEtcdCalls(t *testing.T) {
	p := t.Name() + "/"
	out := enginetest.Run(t, `
local p = ...
etcd.delete(p, {prefix = true})
etcd.put(p .. "k", "v1")
etcd.put(p .. "k", "v2")
local kv = etcd.get(p .. "k")
print(kv.value)
return kv.value, kv.version
`, enginetest.WithCluster(sharedCluster(t)), enginetest.WithArgs(p)).MustSucceed(t)
	if out.Stdout != "v2\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	if len(out.Result.Values) != 2 || out.Result.Values[0] != "v2" || out.Result.Values[1] != int64(2) {
		t.Errorf("values %v", out.Result.Values)
	}
	resp, err := out.Client.Get(context.Background(), p+"k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v2" {
		t.Fatalf("get %s: %v %v", p+"k", resp, err)
	}
}

func TestEtcdErrorIsKindEtcd(t *testing.T) {
	out := etcdRun(t, "\nlocal r = etcd.get('x', {rev = 1e12})\n")
	se := out.MustFail(t, engine.ExitError)
	if se.Kind != engine.KindEtcd || se.Code != luart.CodeFutureRevision {
		t.Fatalf("kind %q code %q (%v)", se.Kind, se.Code, se)
	}
	if !errors.Is(out.Err, rpctypes.ErrFutureRev) {
		t.Errorf("errors.Is(err, rpctypes.ErrFutureRev) is false for %v", out.Err)
	}
	if se.File != "test.lua" || se.Line != 2 || !strings.HasPrefix(se.Message, "etcd.get: ") {
		t.Errorf("got %q at %s:%d", se.Message, se.File, se.Line)
	}
}

// deadEndpoint returns an address where nothing listens.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestUnreachableIsExitConnect(t *testing.T) {
	cli, err := client.New(client.Config{Endpoints: []string{deadEndpoint(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	o := runString(t, engine.Config{Client: cli, CallTimeout: 200 * time.Millisecond}, `
local ok, err = pcall(etcd.get, "k")
assert(not ok and err.code == "unavailable", tostring(err))
etcd.put("k", "v")
`)
	se := o.scriptErr(t)
	if o.res.ExitCode != engine.ExitConnect || se.Kind != engine.KindEtcd || se.Code != luart.CodeUnavailable {
		t.Fatalf("exit %d kind %q code %q (%v)", o.res.ExitCode, se.Kind, se.Code, se)
	}
	var ce *client.ConnectError
	if !errors.As(o.err, &ce) {
		t.Errorf("Unwrap does not lead to the *client.ConnectError: %v", o.err)
	}
}

func TestUnreachableUntilScriptTimeout(t *testing.T) {
	// A call with no bound of its own that waits for a connection until the
	// script's timeout is a timeout, not a connection failure.
	cli, err := client.New(client.Config{Endpoints: []string{deadEndpoint(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	o := runString(t, engine.Config{Client: cli, CallTimeout: -1, Timeout: 200 * time.Millisecond}, `etcd.get("k")`)
	se := o.scriptErr(t)
	if se.Kind != engine.KindTimeout || o.res.ExitCode != engine.ExitTimeout || !errors.Is(o.err, context.DeadlineExceeded) {
		t.Fatalf("exit %d kind %q (%v)", o.res.ExitCode, se.Kind, se)
	}
}

func TestConnectIsLazy(t *testing.T) {
	c := sharedCluster(t)
	var calls atomic.Int32
	var made *client.Client
	cfg := engine.Config{Connect: func(ctx context.Context) (*client.Client, error) {
		calls.Add(1)
		cli, err := enginetest.NewClient(c)
		made = cli
		return cli, err
	}}
	e, _, _ := newEngine(t, cfg)
	ctx := context.Background()
	if _, err := e.RunString(ctx, "x", `print("no etcd here")`, nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Fatal("Connect was called by a script that made no etcd call")
	}
	for range 2 {
		if _, err := e.RunString(ctx, "x", `etcd.put(..., "v")`, []string{t.Name()}); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("Connect called %d times, want 1: the client is kept", calls.Load())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := made.Get(ctx, "x"); !errors.Is(err, client.ErrClientClosed) {
		t.Errorf("after Engine.Close the client it made answers %v, want ErrClientClosed", err)
	}
}

func TestConnectFailureIsExitConnect(t *testing.T) {
	var calls atomic.Int32
	cfg := engine.Config{Connect: func(ctx context.Context) (*client.Client, error) {
		calls.Add(1)
		return nil, errors.New("cluster is down")
	}}
	o := runString(t, cfg, `
local ok, err = pcall(etcd.get, "k")
assert(err.code == "unavailable" and err.retryable, tostring(err))
etcd.get("k")
`)
	se := o.scriptErr(t)
	if o.res.ExitCode != engine.ExitConnect || se.Kind != engine.KindEtcd {
		t.Fatalf("exit %d kind %q (%v)", o.res.ExitCode, se.Kind, se)
	}
	if !strings.Contains(se.Message, "cluster is down") {
		t.Errorf("message %q does not carry Connect's error", se.Message)
	}
	if calls.Load() != 2 {
		t.Errorf("Connect called %d times, want 2: a failure is tried again", calls.Load())
	}
}

func TestNoClientConfigured(t *testing.T) {
	o := runString(t, engine.Config{}, `etcd.get("k")`)
	if se := o.scriptErr(t); se.ExitCode != engine.ExitError || !strings.Contains(se.Message, "no etcd client") {
		t.Fatalf("%v", se)
	}
}

func TestNamespace(t *testing.T) {
	c := sharedCluster(t)
	src := `
etcd.put("a", "1")
local kv = etcd.get("a")
assert(kv.key == "a", kv.key)
local seen
etcd.watch("b", function(ev) seen = ev.kv.key return false end)
etcd.put("b", "2")
etcd.wait()
assert(seen == "b", tostring(seen))
-- Locks and elections live in the namespace too: their keys are seen
-- there, under the names they give.
etcd.lock("L", function(lock)
	assert(lock.key:sub(1, 2) == "L/", lock.key)
	assert(etcd.get(lock.key), "lock key " .. lock.key .. " not in the namespace")
end)
local e = etcd.election("E")
e:campaign("me")
local v, kv = e:leader()
assert(v == "me" and kv.key:sub(1, 2) == "E/", tostring(kv and kv.key))
assert(etcd.get(kv.key).value == "me", "leader key " .. kv.key .. " not in the namespace")
e:resign()
`
	check := func(t *testing.T, cli *client.Client, ns string) {
		t.Helper()
		for _, k := range []string{"a", "b"} {
			resp, err := cli.Get(context.Background(), ns+k)
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("key %s%s: %v %v", ns, k, resp, err)
			}
		}
	}
	t.Run("host client", func(t *testing.T) {
		ns := t.Name() + "/"
		out := etcdRun(t, src, func(cfg *engine.Config) { cfg.Namespace = ns }).MustSucceed(t)
		check(t, out.Client, ns)
	})
	t.Run("connect", func(t *testing.T) {
		ns := t.Name() + "/"
		out := etcdRun(t, src, func(cfg *engine.Config) {
			cfg.Namespace = ns
			cfg.Connect = func(context.Context) (*client.Client, error) { return enginetest.NewClient(c) }
		}).MustSucceed(t)
		check(t, out.Client, ns)
	})
}

func TestDialHook(t *testing.T) {
	c := sharedCluster(t)
	var dialed []string
	out := enginetest.Run(t, `
local c = etcd.connect{endpoints = {"somewhere:2379"}}
c:put(..., "via connect")
return c:get(...).value
`, enginetest.WithCluster(c), enginetest.WithArgs(t.Name()), enginetest.WithConfig(func(cfg *engine.Config) {
		cfg.Dial = func(ctx context.Context, cc client.Config) (*client.Client, error) {
			dialed = append(dialed, cc.Endpoints...)
			cc.Endpoints = c.Endpoints()
			return client.New(cc)
		}
	})).MustSucceed(t)
	if len(out.Result.Values) != 1 || out.Result.Values[0] != "via connect" {
		t.Errorf("values %v", out.Result.Values)
	}
	if len(dialed) != 1 || dialed[0] != "somewhere:2379" {
		t.Errorf("Dial saw endpoints %v", dialed)
	}
}

func TestWatchKeepsTheRunGoing(t *testing.T) {
	out := etcdRun(t, `
local p = "`+t.Name()+`/"
local n = 0
etcd.watch(p, {prefix = true}, function(ev)
  n = n + 1
  print("event", ev.kv.key, ev.kv.value)
  if ev.kv.value == "stop" then return false end
end)
etcd.put(p .. "a", "1")
etcd.put(p .. "b", "stop")
print("main chunk done")
`).MustSucceed(t)
	p := t.Name() + "/"
	want := "main chunk done\nevent\t" + p + "a\t1\nevent\t" + p + "b\tstop\n"
	if out.Stdout != want {
		t.Errorf("stdout %q, want %q", out.Stdout, want)
	}
}

// TestWatchCallbacksInsideSleep: time.sleep is a dispatch point (docs/lua.md
// section 1, Watch): a watch's callback runs inside it, and never between
// two other calls.
func TestWatchCallbacksInsideSleep(t *testing.T) {
	etcdRun(t, `
local time = require("time")
local p = "`+t.Name()+`/"
local seen = {}
local w = etcd.watch(p, {prefix = true}, function(ev) seen[#seen + 1] = ev.kv.key end)
etcd.put(p .. "a", "1")
etcd.get(p .. "a")
assert(#seen == 0, "a callback ran outside a dispatch point")
for _ = 1, 50 do
  time.sleep(0.1)
  if #seen > 0 then break end
end
assert(#seen == 1 and seen[1] == p .. "a", "callback not run inside time.sleep: " .. #seen)
w:cancel()
`).MustSucceed(t)
}

func TestWatchUntilTimeout(t *testing.T) {
	out := etcdRun(t, `etcd.watch("`+t.Name()+`", function(ev) end)`,
		func(cfg *engine.Config) { cfg.Timeout = 300 * time.Millisecond })
	se := out.MustFail(t, engine.ExitTimeout)
	if se.Kind != engine.KindTimeout || !errors.Is(out.Err, context.DeadlineExceeded) {
		t.Fatalf("kind %q (%v)", se.Kind, se)
	}
}

func TestCallbackErrorAfterMainChunk(t *testing.T) {
	out := etcdRun(t, `
etcd.watch("`+t.Name()+`", function(ev)
  error("callback failed")
end)
etcd.put("`+t.Name()+`", "x")
`)
	se := out.MustFail(t, engine.ExitError)
	if se.Message != "callback failed" || se.Line != 3 {
		t.Errorf("got %q at line %d", se.Message, se.Line)
	}
}

func TestExitInCallback(t *testing.T) {
	out := etcdRun(t, `
etcd.watch("`+t.Name()+`", function(ev) os.exit(21) end)
etcd.put("`+t.Name()+`", "x")
`)
	out.MustFail(t, 21)
}

func TestWaitInterruptedByCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	out := enginetest.Run(t, `etcd.watch("`+t.Name()+`", function() end) etcd.wait()`,
		enginetest.WithCluster(sharedCluster(t)), enginetest.WithContext(ctx))
	se := out.MustFail(t, engine.ExitInterrupted)
	if se.Kind != engine.KindCanceled || !errors.Is(out.Err, context.Canceled) {
		t.Fatalf("kind %q (%v)", se.Kind, se)
	}
}

func TestExitInsideLockReleasesIt(t *testing.T) {
	p := t.Name() + "/lock"
	out := enginetest.Run(t, `etcd.lock(..., {ttl = 30}, function() os.exit(3) end)`,
		enginetest.WithCluster(sharedCluster(t)), enginetest.WithArgs(p))
	out.MustFail(t, 3)
	resp, err := out.Client.Get(context.Background(), p, client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 0 {
		t.Errorf("the lock is still held after os.exit: %v", resp.Kvs)
	}
}

// TestTimeoutEndsElection stops a script by its timeout while it leads an
// election: its candidacy must be gone when the run returns, not 30 s later
// when the session's lease would expire.
func TestTimeoutEndsElection(t *testing.T) {
	p := t.Name() + "/election"
	out := enginetest.Run(t, `
		local e = etcd.election(..., {ttl = 30})
		e:campaign("me")
		while true do end`,
		enginetest.WithCluster(sharedCluster(t)), enginetest.WithArgs(p),
		enginetest.WithConfig(func(cfg *engine.Config) { cfg.Timeout = time.Second }))
	se := out.MustFail(t, engine.ExitTimeout)
	if se.Kind != engine.KindTimeout {
		t.Fatalf("kind %q (%v)", se.Kind, se)
	}
	resp, err := out.Client.Get(context.Background(), p, client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 0 {
		t.Fatalf("the candidacy outlived the run: %v", resp.Kvs)
	}
}

// TestNoSpaceIsInternal: a server out of its space quota refuses writes;
// docs/lua.md has no code of its own for that, so it is internal, not
// retryable, and the message says what happened.
func TestNoSpaceIsInternal(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Configure: func(cfg *embed.Config) { cfg.QuotaBackendBytes = 1 << 20 }})
	out := enginetest.Run(t, `
local v = string.rep("x", 100 * 1024)
for i = 1, 200 do
  local ok, err = pcall(etcd.put, "big/" .. i, v)
  if not ok then
    print(err.code, err.retryable, err.op, err.message)
    return
  end
end
error("the quota was never reached")
`, enginetest.WithCluster(cl)).MustSucceed(t)
	if !strings.HasPrefix(out.Stdout, "internal\tfalse\tetcd.put\t") || !strings.Contains(out.Stdout, "space") {
		t.Fatalf("stdout %q, want an internal error of etcd.put about space", out.Stdout)
	}
}

// TestNilResultHint: indexing the nil etcd.get returns for a missing key
// fails with a message naming the call, its key and the idiom; a failure
// that does not come from that nil gets no hint, nor does one caught by
// pcall on the way.
func TestNilResultHint(t *testing.T) {
	p := t.Name() + "/"
	cases := []struct {
		name, src, hint string
	}{
		{"indexed at once", "local p = ...\nprint(etcd.get(p .. 'cfg/x').value)",
			`attempt to index a non-table object(nil) with key 'value' (the nil is what etcd.get("` + p + `cfg/x") returned on line 2: the key does not exist; test for it first: local kv = etcd.get(k); if kv then ... end)`},
		{"a local on a later line", "local p = ...\nlocal kv = etcd.get(p .. 'missing')\nlocal v = kv.value",
			`(the nil is what etcd.get("` + p + `missing") returned on line 2: the key does not exist`},
		{"in a watch callback", "local p = ...\netcd.put(p .. 'w', '1')\nlocal w\nw = etcd.watch(p .. 'w', {rev = 1}, function(ev)\n  w:cancel()\n  return etcd.get(p .. 'gone').value\nend)\netcd.wait()",
			`etcd.get("` + p + `gone") returned on line 6`},
		{"another nil", "local p = ...\nlocal kv = etcd.get(p .. 'missing')\nlocal cfg\nprint(cfg.value)", ""},
		{"caught, then another on the same line", "local p = ...\nlocal ok = pcall(function() return etcd.get(p .. 'm').value end) local t; print(t.value)", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := enginetest.Run(t, c.src, enginetest.WithCluster(sharedCluster(t)), enginetest.WithName("test.lua"), enginetest.WithArgs(p))
			se := o.MustFail(t, engine.ExitError)
			if !strings.Contains(se.Message, "attempt to index a non-table object(nil)") {
				t.Fatalf("message %q", se.Message)
			}
			if c.hint == "" {
				if strings.Contains(se.Message, "the nil is what") {
					t.Fatalf("a hint on a failure that is not the call's: %q", se.Message)
				}
				return
			}
			if !strings.Contains(se.Message, c.hint) {
				t.Fatalf("message %q\nwant it to hold %q", se.Message, c.hint)
			}
		})
	}
}
