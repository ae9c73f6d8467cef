package fault

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// hungCallTimeout is the deadline of each read of the hung-member
// comparison: a read that waits on the hung member ends with it.
const hungCallTimeout = 5 * time.Second

// readSample is one read of the comparison.
type readSample struct {
	start time.Time
	took  time.Duration
	err   error
}

// openLoopReads starts a read every interval (whether or not earlier reads
// have ended, so that a hung read does not slow the rate) until stop
// closes, and returns every read once all have ended.
func openLoopReads(get func(context.Context) error, interval time.Duration, stop <-chan struct{}) []readSample {
	var (
		mu  sync.Mutex
		out []readSample
		wg  sync.WaitGroup
	)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			wg.Wait()
			return out
		case <-tick.C:
		}
		wg.Go(func() {
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), hungCallTimeout)
			err := get(ctx)
			cancel()
			s := readSample{start: start, took: time.Since(start), err: err}
			mu.Lock()
			out = append(out, s)
			mu.Unlock()
		})
	}
}

// latencies summarizes the reads that started in [from, to).
type latencies struct {
	n, failed     int
	p50, p99, max time.Duration
}

func summarize(samples []readSample, from, to time.Time) latencies {
	var l latencies
	var took []time.Duration
	for _, s := range samples {
		if s.start.Before(from) || !s.start.Before(to) {
			continue
		}
		took = append(took, s.took)
		if s.err != nil {
			l.failed++
		}
	}
	l.n = len(took)
	if l.n == 0 {
		return l
	}
	slices.Sort(took)
	pct := func(p int) time.Duration { return took[min(l.n-1, l.n*p/100)] }
	l.p50, l.p99, l.max = pct(50), pct(99), took[l.n-1]
	return l
}

func (l latencies) String() string {
	return fmt.Sprintf("%4d reads, %3d failed, p50 %7v, p99 %7v, max %7v", l.n, l.failed,
		l.p50.Round(time.Millisecond), l.p99.Round(time.Millisecond), l.max.Round(time.Millisecond))
}

// TestHungMemberReadLatency reads at a steady rate through this client and
// through the official one, in the same run, against a three-member
// cluster while one member hangs: its proxy accepts connections and
// forwards nothing (paused, as a SIGSTOPped member; or blackholed, as
// behind a network that drops its packets). Reads may wait on the hung
// member only until the client finds it hung (about a second); after the
// first two seconds of the fault no read of this client waits on it, while
// the official client keeps sending it a third of its reads.
func TestHungMemberReadLatency(t *testing.T) {
	t.Run("pause", func(t *testing.T) {
		hungReadLatency(t, func(p *etcdtest.Proxy) func() { p.Pause(); return p.Unpause })
	})
	t.Run("blackhole", func(t *testing.T) {
		hungReadLatency(t, func(p *etcdtest.Proxy) func() { p.Blackhole(); return p.Unblackhole })
	})
}

func hungReadLatency(t *testing.T, hang func(*etcdtest.Proxy) (undo func())) {
	const (
		interval = 10 * time.Millisecond
		hold     = 8 * time.Second
	)
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Proxy: true, TickMs: tickMs, ElectionMs: electionMs})
	oursSent, theirsSent := &reached{}, &reached{}
	ours, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 30 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithStatsHandler(oursSent)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	theirs, err := clientv3.New(clientv3.Config{Endpoints: cl.Endpoints(), DialTimeout: 30 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithStatsHandler(theirsSent)}})
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if _, err := ours.Put(ctx, "hung/k", "v"); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var ourReads, theirReads []readSample
	var wg sync.WaitGroup
	wg.Go(func() {
		ourReads = openLoopReads(func(ctx context.Context) error { _, err := ours.Get(ctx, "hung/k"); return err }, interval, stop)
	})
	wg.Go(func() {
		theirReads = openLoopReads(func(ctx context.Context) error { _, err := theirs.Get(ctx, "hung/k"); return err }, interval, stop)
	})

	// Both clients must be reading from every member before one hangs:
	// neither connects to all of them in New, and a member a client never
	// reached would hang none of its reads.
	for deadline := time.Now().Add(settleTimeout); !oursSent.all(cl.Endpoints()) || !theirsSent.all(cl.Endpoints()); {
		if time.Now().After(deadline) {
			t.Fatalf("the clients did not read from every member within %v", settleTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := cl.Member(1)
	begin := time.Now()
	// Undone only after the reads ended: bytes a paused proxy held would
	// otherwise end the reads that wait on it early.
	defer hang(m.Proxy())()
	time.Sleep(hold)
	end := time.Now()
	close(stop)
	wg.Wait()

	type row struct {
		name string
		from time.Duration
	}
	var ours2, theirs0 latencies
	for _, r := range []row{{"whole fault", 0}, {"after 1 s", time.Second}, {"after 2 s", 2 * time.Second}} {
		o := summarize(ourReads, begin.Add(r.from), end)
		o3 := summarize(theirReads, begin.Add(r.from), end)
		t.Logf("member %s hung for %v, reads started %-11s: etcdscript %v | clientv3 %v", m.Name(), hold, r.name, o, o3)
		switch r.from {
		case 0:
			theirs0 = o3
		case 2 * time.Second:
			ours2 = o
		}
	}
	if theirs0.failed == 0 {
		t.Errorf("no read of the official client waited out its deadline: the fault hung nothing, the test shows nothing")
	}
	if ours2.n == 0 || ours2.failed > 0 || ours2.p99 >= hungCallTimeout {
		t.Errorf("after the first 2 s of the fault, reads still waited on the hung member: %v (deadline %v)", ours2, hungCallTimeout)
	}
}

// TestHungMemberWritesOnce runs the recorded load (puts, deletes and
// compare-and-swaps, each with a unique value) while a follower and then
// the leader hang for longer than the client takes to find them hung.
// Reads are moved off the hung member; a write that may have reached it is
// never sent again: the whole history is checked, the watch check included,
// which fails on a value delivered twice.
func TestHungMemberWritesOnce(t *testing.T) {
	hang := func(f fault) fault { f.hold = 3 * time.Second; return f }
	runFaults(t, []fault{hang(pause(follower)), hang(pause(leader)), hang(pause(follower))})
}

// reached is a gRPC stats handler that records which addresses a client
// has sent calls to.
type reached struct {
	mu    sync.Mutex
	addrs map[string]bool
}

func (r *reached) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (r *reached) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (r *reached) HandleConn(context.Context, stats.ConnStats)                       {}

func (r *reached) HandleRPC(_ context.Context, st stats.RPCStats) {
	if h, ok := st.(*stats.OutHeader); ok && h.Client && h.RemoteAddr != nil {
		r.mu.Lock()
		if r.addrs == nil {
			r.addrs = map[string]bool{}
		}
		r.addrs[h.RemoteAddr.String()] = true
		r.mu.Unlock()
	}
}

// all reports whether calls went to every one of endpoints.
func (r *reached) all(endpoints []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ep := range endpoints {
		if !r.addrs[ep] {
			return false
		}
	}
	return true
}

// TestHungMemberStreamsMove: a watch and a lease keepalive whose streams
// sit on a member that stops answering go on from another member, without
// waiting for gRPC keepalive (an hour away here, so only the client's
// health checks can find the member hung). The streams start on the first
// member, the only one ready then, which hangs first; then the others
// hang in turn, wherever the streams went. An idle watch stream looks the
// same on a live member and on a hung one, which is why endpoints holding
// streams get a probe every second.
func TestHungMemberStreamsMove(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Proxy: true, TickMs: tickMs, ElectionMs: electionMs})
	var direct []string
	for _, m := range cl.Members() {
		direct = append(direct, m.ListenAddr())
	}
	writer, err := client.New(client.Config{Endpoints: direct, DialTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	// The streams open while only the first member is ready (the other
	// two hold back their side of the connection), as when a client starts
	// before all members answer: they must be moved even so.
	for _, m := range cl.Members()[1:] {
		m.Proxy().Pause()
	}
	sent := &reached{}
	cli, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 30 * time.Second, DialKeepAliveTime: time.Hour,
		DialOptions: []grpc.DialOption{grpc.WithStatsHandler(sent)}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*settleTimeout)
	defer cancel()
	// A hold of 6 s outlives the TTL unless renewals move; the TTL leaves
	// a loaded machine a few seconds to move them.
	const ttl = 5
	lease, err := cli.Grant(ctx, ttl)
	if err != nil {
		t.Fatal(err)
	}
	kach, err := cli.KeepAlive(ctx, lease.ID)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range kach {
		}
	}()
	wch := cli.Watch(ctx, "hungstream/k")
	next := func(want string, what string) {
		t.Helper()
		start := time.Now()
		if _, err := writer.Put(ctx, "hungstream/k", want); err != nil {
			t.Fatal(err)
		}
		select {
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil || len(resp.Events) != 1 || string(resp.Events[0].Kv.Value) != want {
				t.Fatalf("%s: watch gave %+v (open %v, err %v), want the one event %q", what, resp, ok, resp.Err(), want)
			}
			t.Logf("%s: the event of %q came %v after the put", what, want, time.Since(start).Round(time.Millisecond))
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the watch got no event for the put of %q in 20 s", what, want)
		}
	}
	next("v0", "before any fault")
	for _, m := range cl.Members()[1:] {
		m.Proxy().Unpause()
	}
	for deadline := time.Now().Add(settleTimeout); !sent.all(cl.Endpoints()); {
		if time.Now().After(deadline) {
			t.Fatalf("the client did not reach every member within %v", settleTimeout)
		}
		if _, err := cli.Get(ctx, "hungstream/k"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, m := range cl.Members() {
		what := "member " + m.Name() + " hung"
		func() {
			p := m.Proxy()
			p.Pause()
			defer p.Unpause()
			next(fmt.Sprintf("v%d", i+1), what)
			time.Sleep(6 * time.Second)
			resp, err := writer.TimeToLive(ctx, lease.ID)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if resp.TTL <= 0 {
				t.Fatalf("%s: the lease expired (TTL %d): its renewals stayed on the hung member", what, resp.TTL)
			}
		}()
	}
}
