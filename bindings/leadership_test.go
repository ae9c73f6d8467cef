package bindings_test

import (
	"context"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client/concurrency"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestObserveHandover: two candidates outside the script hand the
// leadership over while the second waits in its campaign; the script's
// observer sees each leader once, in order.
func TestObserveHandover(t *testing.T) {
	e := newEnv(t, "bt/handover/", envOptions{})
	defer e.close()
	name := e.prefix + "el"
	e.L.SetGlobal("NAME", lua.LString(name))
	e.run(t, `
		seen = {}
		obs = etcd.election(NAME):observe(function(value) seen[#seen + 1] = value end)
	`)
	// dispatch runs the observer's callbacks until n values were seen.
	dispatch := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			e.run(t, `etcd.wait(0.05)`)
			if e.L.GetGlobal("seen").(*lua.LTable).Len() >= n {
				return
			}
		}
		t.Fatalf("the observer saw %d values, want %d", e.L.GetGlobal("seen").(*lua.LTable).Len(), n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sa, err := concurrency.NewSession(e.cli, concurrency.WithTTL(10))
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := concurrency.NewSession(e.cli, concurrency.WithTTL(10))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	a, b := concurrency.NewElection(sa, name), concurrency.NewElection(sb, name)
	if err := a.Campaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	bLeads := make(chan error, 1)
	go func() { bLeads <- b.Campaign(ctx, "b") }()
	dispatch(1)
	// b waits for a.
	time.Sleep(200 * time.Millisecond)
	if err := a.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-bLeads; err != nil {
		t.Fatal(err)
	}
	dispatch(2)
	// Nothing more comes: no value twice.
	e.run(t, `
		etcd.wait(0.5)
		assert.eq(seen, {"a", "b"})
		obs:cancel()
	`)
	if err := b.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOnLostExpired: a session whose lease cannot be renewed (its member
// stops answering for longer than the TTL) is lost: on_lost runs at a
// dispatch point, while the script's other work goes on.
func TestOnLostExpired(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Proxy: true})
	e := newEnv(t, "bt/expired/", envOptions{cluster: cl, callTimeout: 2 * time.Second})
	defer e.close()
	defer e.installPause(cl.Member(0).Proxy())()
	e.run(t, `
		local lost
		local el = etcd.election(PREFIX .. "el", {ttl = 2, on_lost = function(err) lost = err end})
		el:campaign("a")
		pause()
		for _ = 1, 300 do
			if lost then break end
			etcd.wait(0.1)
		end
		assert.truthy(lost, "on_lost ran")
		assert.eq(lost.op, "etcd.election")
		assert.eq(lost.code, "lease_not_found", tostring(lost))
	`)
}

// installPause gives the script pause(), which makes the member behind
// proxy stop answering, and returns the function that lets it answer again
// (for a defer that runs before the run is closed).
func (e *env) installPause(proxy *etcdtest.Proxy) (unpause func()) {
	e.L.SetGlobal("pause", e.L.NewFunction(func(L *lua.LState) int {
		proxy.Pause()
		return 0
	}))
	return proxy.Unpause
}
