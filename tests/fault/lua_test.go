package fault

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	lua "github.com/yuin/gopher-lua"
)

// watchScript counts the events of jobs/ from a start revision until the
// key jobs/stop appears, checking their order, and prints the count.
const watchScript = `
local from = tonumber(arg[1])
local n, last = 0, 0
etcd.watch("jobs/", {prefix = true, rev = from}, function(ev)
  if ev.kv.key == "jobs/stop" then
    print("events " .. n)
    return false
  end
  if ev.revision <= last then error("event out of order: " .. ev.revision .. " after " .. last) end
  last = ev.revision
  n = n + 1
end)
`

// TestLuaWatchUnderFaultsAndTokenExpiry runs a Lua watch as a user whose
// auth token expires every second, while members are killed and restarted
// and client connections are dropped. The script must see every write
// exactly once and in order, with no error reaching it.
func TestLuaWatchUnderFaultsAndTokenExpiry(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Proxy: true, AuthTokenTTL: 1, TickMs: tickMs, ElectionMs: electionMs})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	enableAuth(ctx, t, cl.Endpoints())

	writer := newTestClient(t, cl.Endpoints(), "root", "rootpw")
	app := newTestClient(t, cl.Endpoints(), "app", "apppw")
	start, err := writer.Get(ctx, "jobs/none")
	if err != nil {
		t.Fatal(err)
	}
	from := start.Header.Revision + 1

	var (
		wg  sync.WaitGroup
		out *enginetest.Outcome
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		out = enginetest.Run(t, watchScript, enginetest.WithCluster(cl), enginetest.WithArgs(strconv.FormatInt(from, 10)),
			enginetest.WithConfig(func(c *engine.Config) { c.Client = app; c.Connect = nil; c.Timeout = 2 * time.Minute }))
	}()

	// Writes with unique keys, paced across several token lifetimes, while
	// faults come and go.
	stopWrites := make(chan struct{})
	writesDone := make(chan struct{})
	go func() {
		defer close(writesDone)
		for i := 0; ; i++ {
			select {
			case <-stopWrites:
				return
			default:
			}
			wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
			_, _ = writer.Put(wctx, fmt.Sprintf("jobs/%05d", i), "v")
			wcancel()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	faults := []func() error{
		func() error { cl.Member(0).Proxy().DropConnections(); return nil },
		func() error { return restart(ctx, cl.Member(1), true) },
		func() error { cl.Member(2).Proxy().DropConnections(); return nil },
		func() error {
			leader, err := cl.Leader(ctx)
			if err != nil {
				return err
			}
			return restart(ctx, leader, false)
		},
	}
	for _, f := range faults {
		time.Sleep(1200 * time.Millisecond) // past a token lifetime each time
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1200 * time.Millisecond)
	close(stopWrites)
	<-writesDone
	if _, err := cl.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Put(ctx, "jobs/stop", "1"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	out.MustSucceed(t)

	// Every key written (acknowledged or not, a put that landed is an
	// event) is one event: unique keys, one put each.
	all, err := writer.Get(ctx, "jobs/", client.WithPrefix(), client.WithCountOnly(), client.WithRev(0))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("events %d", all.Count-1) // less jobs/stop
	if got := strings.TrimSpace(out.Stdout); got != want {
		t.Fatalf("script printed %q, want %q (stderr %q)", got, want, out.Stderr)
	}
	if all.Count < 100 {
		t.Fatalf("only %d writes landed: the test did not exercise much", all.Count)
	}
	t.Logf("%d events seen exactly once across token expiries, kills and dropped connections", all.Count-1)
}

func restart(ctx context.Context, m *etcdtest.Member, kill bool) error {
	var err error
	if kill {
		err = m.Kill()
	} else {
		err = m.Stop()
	}
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	return m.Restart(ctx)
}

func newTestClient(t *testing.T, eps []string, user, pass string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// enableAuth creates root and an app user that may read and write jobs/,
// then turns authentication on.
func enableAuth(ctx context.Context, t *testing.T, eps []string) {
	t.Helper()
	c := newTestClient(t, eps, "", "")
	steps := []func() error{
		func() error { _, err := c.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := c.UserAdd(ctx, "app", "apppw"); return err },
		func() error { _, err := c.RoleAdd(ctx, "app"); return err },
		func() error {
			_, err := c.RoleGrantPermission(ctx, "app", "jobs/", client.GetPrefixRangeEnd("jobs/"), client.PermissionType(client.PermReadWrite))
			return err
		},
		func() error { _, err := c.UserGrantRole(ctx, "app", "app"); return err },
		func() error { _, err := c.AuthEnable(ctx); return err },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}
}

// TestLuaWatchNoLeader: a Lua watch whose cluster loses its quorum ends
// with an error of code no_leader, given to its on_error, instead of
// waiting on a member that cannot see new writes; the script goes on.
func TestLuaWatchNoLeader(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, TickMs: tickMs, ElectionMs: electionMs})
	const script = `
local got
etcd.watch("noleader/", {prefix = true, on_error = function(err) got = err end}, function(ev) end)
etcd.put("noleader/a", "1")
require("ctl").lose_quorum()
etcd.wait()
assert(got, "the watch ended without an error")
print(got.code, got.retryable, got.op)
`
	// ctl.lose_quorum() stops two of the three members.
	ctl := func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"lose_quorum": func(L *lua.LState) int {
			for _, m := range cl.Members()[1:] {
				if err := m.Stop(); err != nil {
					L.RaiseError("stopping %s: %v", m.Name(), err)
				}
			}
			return 0
		}}))
		return 1
	}
	out := enginetest.Run(t, script, enginetest.WithCluster(cl), enginetest.WithConfig(func(c *engine.Config) {
		c.Timeout = time.Minute
		c.Modules = map[string]lua.LGFunction{"ctl": ctl}
	}))
	out.MustSucceed(t)
	if got := strings.TrimSpace(out.Stdout); got != "no_leader\ttrue\tetcd.watch" {
		t.Fatalf("script printed %q, want the no_leader error of etcd.watch (stderr %q)", got, out.Stderr)
	}
}
