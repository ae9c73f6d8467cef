package etcdtest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// newClient returns a clientv3 client on the given endpoints, closed when the
// test ends.
func newClient(t *testing.T, tlsCfg *tls.Config, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		TLS:         tlsCfg,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t *testing.T, cli *clientv3.Client, k, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, k, v); err != nil {
		t.Fatalf("put %s: %v", k, err)
	}
}

func mustGet(t *testing.T, cli *clientv3.Client, k, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, k)
	if err != nil {
		t.Fatalf("get %s: %v", k, err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != want {
		t.Fatalf("get %s = %v, want %q", k, resp.Kvs, want)
	}
}

func TestSingleMember(t *testing.T) {
	start := time.Now()
	c := StartT(t, Options{})
	t.Logf("1-member start: %v", time.Since(start))

	if got := len(c.Members()); got != 1 {
		t.Fatalf("members = %d", got)
	}
	m := c.Member(0)
	if !m.Running() || !m.IsLeader() || m.ID() == 0 {
		t.Fatalf("running=%v leader=%v id=%x", m.Running(), m.IsLeader(), m.ID())
	}
	cli := newClient(t, nil, c.Endpoints()...)
	mustPut(t, cli, "k", "v")
	mustGet(t, cli, "k", "v")

	ml, err := cli.MemberList(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Members) != 1 || ml.Members[0].ClientURLs[0] != "http://"+c.Endpoints()[0] {
		t.Fatalf("member list: %+v, endpoints %v", ml.Members, c.Endpoints())
	}

	dir := c.Dir()
	start = time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("1-member close: %v", time.Since(start))
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir %s left behind: %v", dir, err)
	}
}

func TestThreeMembers(t *testing.T) {
	start := time.Now()
	c := StartT(t, Options{Size: 3})
	t.Logf("3-member start: %v", time.Since(start))

	cli := newClient(t, nil, c.Endpoints()...)
	ml, err := cli.MemberList(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Members) != 3 {
		t.Fatalf("member list has %d members", len(ml.Members))
	}
	want := map[string]uint64{}
	for _, m := range c.Members() {
		want[m.ClientURL()] = m.ID()
	}
	for _, mm := range ml.Members {
		if len(mm.ClientURLs) != 1 {
			t.Fatalf("member %s client urls %v", mm.Name, mm.ClientURLs)
		}
		u := mm.ClientURLs[0]
		if id, ok := want[u]; !ok || id != mm.ID {
			t.Fatalf("member %s %x advertises %s; want one of %v", mm.Name, mm.ID, u, want)
		}
		_, port, _ := net.SplitHostPort(u[len("http://"):])
		if p, _ := strconv.Atoi(port); p == 0 {
			t.Fatalf("member %s advertises port 0", mm.Name)
		}
	}

	l := c.WaitLeader(t)
	leaders := 0
	for _, m := range c.Members() {
		if m.IsLeader() {
			leaders++
		}
	}
	if leaders != 1 || !l.IsLeader() {
		t.Fatalf("leaders = %d", leaders)
	}
	mustPut(t, cli, "a", "1")
	for _, m := range c.Members() {
		mustGet(t, newClient(t, nil, m.Endpoint()), "a", "1")
	}
}

func TestStopLeaderAndRestart(t *testing.T) {
	c := StartT(t, Options{Size: 3})
	cli := newClient(t, nil, c.Endpoints()...)
	mustPut(t, cli, "before", "1")
	old := c.WaitLeader(t)

	start := time.Now()
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop leader: %v", time.Since(start))
	if old.Running() || old.IsLeader() || old.Etcd() != nil {
		t.Fatal("stopped member still running")
	}
	start = time.Now()
	nl := c.WaitLeader(t)
	t.Logf("new leader after %v", time.Since(start))
	if nl == old {
		t.Fatal("stopped member is still leader")
	}
	// Writes go on with two members, and the stopped member misses them.
	mustPut(t, cli, "during", "2")
	for i := 0; i < 50; i++ {
		mustPut(t, cli, fmt.Sprintf("bulk/%d", i), "x")
	}

	start = time.Now()
	if err := old.Restart(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart: %v", time.Since(start))
	if !old.Running() {
		t.Fatal("restarted member not running")
	}
	oc := newClient(t, nil, old.Endpoint())
	mustGet(t, oc, "before", "1")
	mustGet(t, oc, "during", "2") // linearizable: caught up with the leader
	if err := old.Restart(ctxT(t, time.Second)); err == nil {
		t.Fatal("restart of a running member succeeded")
	}
}

func TestKill(t *testing.T) {
	c := StartT(t, Options{Size: 3})
	cli := newClient(t, nil, c.Endpoints()...)
	mustPut(t, cli, "k", "1")
	l := c.WaitLeader(t)
	start := time.Now()
	if err := l.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kill leader: %v", time.Since(start))
	if err := l.Kill(); err != nil {
		t.Fatalf("second kill: %v", err)
	}
	nl := c.WaitLeader(t)
	if nl == l {
		t.Fatal("killed member still leader")
	}
	mustPut(t, cli, "k", "2")
	if err := l.Restart(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	mustGet(t, newClient(t, nil, l.Endpoint()), "k", "2")
}

// TestStopAllAndRestart checks that members restarted one by one after all
// were stopped form the cluster again with their data.
func TestStopAllAndRestart(t *testing.T) {
	c := StartT(t, Options{Size: 3})
	cli := newClient(t, nil, c.Endpoints()...)
	mustPut(t, cli, "k", "v")
	for _, m := range c.Members() {
		if err := m.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.Members() {
		if err := m.Restart(ctxT(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitLeader(t)
	mustGet(t, cli, "k", "v")
}

func TestOpenStreamsDoNotSlowClose(t *testing.T) {
	c := StartT(t, Options{Size: 1})
	cli := newClient(t, nil, c.Endpoints()...)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := cli.Watch(wctx, "w")
	mustPut(t, cli, "w", "1")
	<-wch
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("close with an open watch took %v", d)
	} else {
		t.Logf("close with an open watch: %v", d)
	}
}

func TestLimits(t *testing.T) {
	c := StartT(t, Options{MaxTxnOps: 4, MaxRequestBytes: 4096})
	cli := newClient(t, nil, c.Endpoints()...)
	ops := make([]clientv3.Op, 5)
	for i := range ops {
		ops[i] = clientv3.OpPut(fmt.Sprintf("k%d", i), "v")
	}
	if _, err := cli.Txn(ctxT(t, 5*time.Second)).Then(ops...).Commit(); err == nil {
		t.Fatal("txn of 5 ops passed MaxTxnOps 4")
	}
	if _, err := cli.Put(ctxT(t, 5*time.Second), "big", string(make([]byte, 8192))); err == nil {
		t.Fatal("8 KiB put passed MaxRequestBytes 4096")
	}
}

func TestDataDirKept(t *testing.T) {
	dir := t.TempDir()
	c, err := Start(ctxT(t, 30*time.Second), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Member(0).DataDir()); err != nil {
		t.Fatalf("given data dir not kept: %v", err)
	}
}

func BenchmarkStart1(b *testing.B) { benchStart(b, 1) }
func BenchmarkStart3(b *testing.B) { benchStart(b, 3) }
func benchStart(b *testing.B, n int) {
	for i := 0; i < b.N; i++ {
		c, err := Start(context.Background(), Options{Size: n})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// TestStartRetriesTakenPort simulates a port taken by another process
// between the moment it is chosen and etcd's bind.
func TestStartRetriesTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	calls := 0
	reservePortsFn = func(n int) ([]int, error) {
		calls++
		ps, err := reservePorts(n)
		if err == nil && calls == 1 {
			// The client port of the last member.
			releasePorts(ps[len(ps)-2])
			ps[len(ps)-2] = taken
		}
		return ps, err
	}
	defer func() { reservePortsFn = reservePorts }()
	c := StartT(t, Options{Size: 3})
	if calls != 2 {
		t.Fatalf("reservePorts called %d times, want 2", calls)
	}
	cli := newClient(t, nil, c.Endpoints()...)
	mustPut(t, cli, "k", "v")
}

// TestDataDirReuse restarts a one-member cluster from the data directory of
// an earlier one, as `run --embedded` with a data directory would.
func TestDataDirReuse(t *testing.T) {
	dir := t.TempDir()
	c, err := Start(ctxT(t, 30*time.Second), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, newClient(t, nil, c.Endpoints()...), "k", "v")
	c.Close()
	c2 := StartT(t, Options{DataDir: dir})
	cli := newClient(t, nil, c2.Endpoints()...)
	mustGet(t, cli, "k", "v")
	ml, err := cli.MemberList(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := ml.Members[0].ClientURLs[0]; got != c2.ClientURLs()[0] {
		t.Fatalf("advertised %s, want %s", got, c2.ClientURLs()[0])
	}
}

func TestTCPListeners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := TCPListeners()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(addrs, ln.Addr().String()) {
		t.Errorf("TCPListeners() = %v, without %s", addrs, ln.Addr())
	}
	ln.Close()
	if addrs, err = TCPListeners(); err != nil || slices.Contains(addrs, ln.Addr().String()) {
		t.Errorf("after Close: TCPListeners() = %v, %v", addrs, err)
	}
}
