package bindings_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/internal/luatest"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// testCallTimeout is the per-call timeout of test runs: generous, since the
// race detector on a shared machine slows everything.
const testCallTimeout = 20 * time.Second

// env is one script run for a test: a state, a runtime with a loop, the
// module over a client of the shared server.
type env struct {
	t      testing.TB
	L      *lua.LState
	rt     *luart.Runtime
	mod    *bindings.Module
	cli    *client.Client
	ctx    context.Context
	cancel context.CancelFunc
	prefix string
	bg     sync.WaitGroup
}

type envOptions struct {
	backend     func(cli *client.Client) bindings.Backend
	callTimeout time.Duration
	runTimeout  time.Duration
	// cluster, when set, replaces the shared server; username and
	// password log the run's client in.
	cluster            *etcdtest.Cluster
	username, password string
}

// newEnv prepares a run whose keys live under prefix (emptied first).
func newEnv(t testing.TB, prefix string, o envOptions) *env {
	t.Helper()
	var cl etcdtest.Server = o.cluster
	if o.cluster == nil {
		cl = sharedCluster(t)
	}
	cli, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second,
		Username: o.username, Password: o.password})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if o.runTimeout == 0 {
		o.runTimeout = 3 * time.Minute
	}
	if o.callTimeout == 0 {
		o.callTimeout = testCallTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.runTimeout)
	if _, err := cli.Delete(ctx, prefix, client.WithPrefix()); err != nil {
		t.Fatalf("clear %s: %v", prefix, err)
	}
	e := &env{t: t, cli: cli, ctx: ctx, cancel: cancel, prefix: prefix}
	e.rt = &luart.Runtime{Ctx: ctx, CallTimeout: o.callTimeout, Loop: luart.NewLoop()}
	b := bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }}
	if o.backend != nil {
		b = o.backend(cli)
	}
	e.mod = bindings.New(e.rt, b)
	e.L = lua.NewState()
	e.L.SetContext(ctx)
	e.mod.Install(e.L)
	e.installHelpers(cl.Endpoints())
	return e
}

// close ends the run as the engine does: the module, then the loop, the
// state and the client.
func (e *env) close() {
	if err := e.mod.Close(); err != nil {
		e.t.Errorf("module close: %v", err)
	}
	e.bg.Wait()
	e.rt.Loop.Close()
	e.L.Close()
	e.cancel()
	e.cli.Close()
}

// drain dispatches callbacks until no watch is left, as the engine does
// after the main chunk.
func (e *env) drain() error {
	return e.rt.Loop.Run(e.ctx, e.L, -1)
}

// installHelpers sets the globals test files use beside etcd and assert:
// PREFIX, ENDPOINTS, and functions that do what a script cannot (write from
// another goroutine while the script reads).
func (e *env) installHelpers(endpoints []string) {
	L := e.L
	L.SetGlobal("PREFIX", lua.LString(e.prefix))
	eps := L.NewTable()
	for _, ep := range endpoints {
		eps.Append(lua.LString(ep))
	}
	L.SetGlobal("ENDPOINTS", eps)
	// background_puts(prefix, n): puts n keys prefix..i from another
	// goroutine, in txns of 64, and returns a function that waits for the
	// writer to finish and returns the number written.
	L.SetGlobal("background_puts", L.NewFunction(func(L *lua.LState) int {
		prefix := L.CheckString(1)
		n := L.CheckInt(2)
		var written atomic.Int64
		done := make(chan error, 1)
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			for i := 0; i < n; i += 64 {
				ops := make([]client.Op, 0, 64)
				for j := i; j < n && j < i+64; j++ {
					ops = append(ops, client.OpPut(fmt.Sprintf("%s%08d", prefix, j), "bg"))
				}
				if _, err := e.cli.Txn(e.ctx).Then(ops...).Commit(); err != nil {
					done <- err
					return
				}
				written.Add(int64(len(ops)))
			}
			done <- nil
		}()
		L.Push(L.NewFunction(func(L *lua.LState) int {
			if err := <-done; err != nil {
				L.RaiseError("background_puts: %v", err)
			}
			L.Push(lua.LNumber(written.Load()))
			return 1
		}))
		return 1
	}))
	// go_put(key, value): a put from Go, outside the module.
	L.SetGlobal("go_put", L.NewFunction(func(L *lua.LState) int {
		resp, err := e.cli.Put(e.ctx, L.CheckString(1), L.CheckString(2))
		if err != nil {
			L.RaiseError("go_put: %v", err)
		}
		L.Push(lua.LNumber(resp.Header.Revision))
		return 1
	}))
	// put_after(seconds, key, value): a put from another goroutine after
	// a delay, to arrive while the script waits.
	L.SetGlobal("put_after", L.NewFunction(func(L *lua.LState) int {
		d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
		k, v := L.CheckString(2), L.CheckString(3)
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			select {
			case <-time.After(d):
				_, _ = e.cli.Put(e.ctx, k, v)
			case <-e.ctx.Done():
			}
		}()
		return 0
	}))
	// sleep(seconds): a plain sleep that dispatches nothing.
	L.SetGlobal("sleep", L.NewFunction(func(L *lua.LState) int {
		time.Sleep(time.Duration(float64(L.CheckNumber(1)) * float64(time.Second)))
		return 0
	}))
	// grant_with_id(hex_id, ttl): grants a lease with a chosen id, which
	// the Lua API cannot do, so that a test can pick an id whose top hex
	// digit is 0.
	L.SetGlobal("grant_with_id", L.NewFunction(func(L *lua.LState) int {
		id, err := strconv.ParseInt(L.CheckString(1), 16, 64)
		if err != nil {
			L.RaiseError("grant_with_id: %v", err)
		}
		req := &pb.LeaseGrantRequest{ID: id, TTL: int64(L.CheckInt(2))}
		if _, err := pb.NewLeaseClient(e.cli.ActiveConnection()).LeaseGrant(e.ctx, req); err != nil {
			L.RaiseError("grant_with_id: %v", err)
		}
		return 0
	}))
	// holds(): the number of loop holds (live callback watches).
	L.SetGlobal("holds", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(e.rt.Loop.Active()))
		return 1
	}))
}

// TestLuaFiles runs every testdata/*.lua file as a script run against the
// shared server, each file under its own key prefix.
func TestLuaFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.lua"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	sort.Strings(files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".lua")
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "bt/"+name+"/", envOptions{})
			defer e.close()
			luatest.Run(t, e.L, file)
			if err := e.drain(); err != nil {
				t.Errorf("after the main chunk: %s", luatest.Describe(err))
			}
		})
	}
}

// hostKV is a KV of a host's own making: it has GetStream but is not a
// client.RangeStreamer, so scans read KV.GetStream's decoded parts.
type hostKV struct{ client.KV }

// TestLuaScanThroughGetStream runs the scan tests over a host's KV, the
// other path etcd.scan takes.
func TestLuaScanThroughGetStream(t *testing.T) {
	e := newEnv(t, "bt/scan-host/", envOptions{backend: func(cli *client.Client) bindings.Backend {
		return bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }, KV: hostKV{cli.KV}}
	}})
	defer e.close()
	luatest.Run(t, e.L, filepath.Join("testdata", "scan.lua"))
}

// TestScanPartTimeout: a scan whose server stops answering between parts
// fails with deadline_exceeded after the per-call timeout, on both paths,
// having read some keys but not all.
func TestScanPartTimeout(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Proxy: true})
	for _, path := range []string{"reader", "getstream"} {
		t.Run(path, func(t *testing.T) {
			o := envOptions{cluster: cl, callTimeout: time.Second}
			if path == "getstream" {
				o.backend = func(cli *client.Client) bindings.Backend {
					return bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }, KV: hostKV{cli.KV}}
				}
			}
			e := newEnv(t, "bt/scan-timeout/", o)
			defer e.close()
			defer e.installPause(cl.Member(0).Proxy())()
			// 16 MiB, far more than gRPC's flow-control windows let the
			// server send ahead of the reader. Written from Go: the
			// script's calls have a 1 s timeout, short for 1 MiB txns
			// under the race detector.
			v := strings.Repeat("x", 64*1024)
			for i := 1; i <= 256; i += 16 {
				ops := make([]client.Op, 0, 16)
				for j := i; j < i+16; j++ {
					ops = append(ops, client.OpPut(fmt.Sprintf("%s%04d", e.prefix, j), v))
				}
				if _, err := e.cli.Txn(e.ctx).Then(ops...).Commit(); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			e.run(t, `
				local n = 0
				local ok, err = pcall(function()
					for kv in etcd.scan(PREFIX, {prefix = true}) do
						n = n + 1
						if n == 1 then pause() end
					end
				end)
				assert(not ok, "the scan read " .. n .. " keys through a paused server")
				assert.eq(err.code, "deadline_exceeded", tostring(err))
				assert.eq(err.op, "etcd.scan")
				assert(n >= 1 and n < 256, "read " .. n)
			`)
			if d := time.Since(start); d > time.Minute {
				t.Errorf("the scan took %v to time out", d)
			}
		})
	}
}
