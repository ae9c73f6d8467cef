package fault

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// Timeouts. They are generous on purpose: the machine is small and shared,
// and no check of this package depends on how long anything took.
const (
	// readTimeout is the deadline of each read of the load. Reads are
	// retried by the client on another member, so while a quorum runs one
	// must succeed well within it.
	readTimeout = 30 * time.Second
	// writeTimeout is the deadline of each write of the load; a write that
	// runs out of it has an unknown outcome.
	writeTimeout = 3 * time.Second
	// settleTimeout bounds each wait of a round's verification (cluster
	// healthy again, fence write, watch caught up).
	settleTimeout = 90 * time.Second
	// leaseTTL is the TTL in seconds of the lease kept alive across the
	// faults.
	leaseTTL = 3
)

// Raft timing of the clusters. etcdtest's default (10 ms heartbeats, 100 ms
// election timeout) holds on a quiet machine, but on a shared two-core
// machine whose load average stays above 10 a member's raft loop can stall
// for a second or two: with a 100 ms election timeout the members then
// elect leaders again and again, and for seconds no lease renewal can be
// acknowledged. 500 ms keeps them stable under that load while a leader that
// was isolated or killed is still replaced well within the TTL of the lease
// kept alive (3 s).
const (
	tickMs     = 50
	electionMs = 500
)

// Process ids of the operations that are not load.
const (
	fenceProc = 1000 // the write that ends each round's verification
	finalProc = 1001 // the final read of every key
)

// loadConfig shapes the load of a run.
type loadConfig struct {
	clients        int // client objects
	procsPerClient int // goroutines per client, each a sequential process
	keys           int
	// pace is the pause after each operation of a process, which keeps
	// the load from starving the members on a small machine.
	pace time.Duration
	// ops, when positive, makes each process stop after that many
	// operations instead of running until stopped.
	ops int
	// noLease leaves out the lease under keepalive, for runs in which the
	// cluster loses its quorum for longer than the lease's TTL.
	noLease bool
}

var faultLoad = loadConfig{clients: 4, procsPerClient: 4, keys: 5, pace: 20 * time.Millisecond}

// env is a cluster of three members with proxies in front of their client
// URLs, clients on all three, a load that records its history, a watcher on
// the prefix everything is written under, and a lease under keepalive.
type env struct {
	t      *testing.T
	cl     *etcdtest.Cluster
	prefix string
	keys   []string
	cfg    loadConfig
	seed   uint64
	rec    *recorder

	load  []*client.Client
	check *client.Client // verification reads, fence writes, TimeToLive
	// leaseCli carries only the keepalive. With no other call on it, its
	// round-robin balancer moves a stream that stopped answering to the
	// next member; calls of other goroutines would make that pick random,
	// and a renewal could be sent twice in a row to a blackholed member.
	leaseCli *client.Client

	lease    client.LeaseID
	ka       <-chan *client.LeaseKeepAliveResponse
	kaCancel context.CancelFunc
	kaDone   chan struct{}
	kaCount  atomic.Int64

	startRev int64
	watch    *watchRecorder

	loadCancel context.CancelFunc
	loadWG     sync.WaitGroup
	loadOnce   sync.Once

	readOK atomic.Int64
	// readExempt counts the reads that failed while they overlapped a
	// window without quorum, which may fail.
	readExempt atomic.Int64
	// quorumEpoch is odd while a fault holds the cluster below quorum; it
	// is incremented when such a window opens and when it closes.
	quorumEpoch atomic.Int64
	errMu       sync.Mutex
	readErrs    []string

	rounds   int
	fenceSeq int

	// lastRenewal is when the keepalive channel last delivered (unix ns).
	lastRenewal atomic.Int64
	// maxLag is the largest delay, in ns, of a 10 ms timer in this process
	// since the last round began: how long the process was starved of CPU.
	maxLag atomic.Int64
	// leaseLag is the same since the lease was last found alive.
	leaseLag   atomic.Int64
	lagStop    chan struct{}
	lagStopped chan struct{}
	// leaseLost is set once the lease was lost while the process was
	// starved (see checkLease); it is not checked again.
	leaseLost bool
}

// newEnv starts the cluster, the clients, the lease and the watcher. The
// load starts with startLoad.
func newEnv(t *testing.T, size int, cfg loadConfig) *env {
	t.Helper()
	cl := etcdtest.StartT(t, etcdtest.Options{Size: size, Proxy: true, TickMs: tickMs, ElectionMs: electionMs})
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	e := &env{
		t:      t,
		cl:     cl,
		prefix: "fault/",
		cfg:    cfg,
		seed:   h.Sum64(),
		rec:    newRecorder(),
	}
	for i := range cfg.keys {
		e.keys = append(e.keys, fmt.Sprintf("%sk%d", e.prefix, i))
	}
	for range cfg.clients {
		e.load = append(e.load, e.newClient())
	}
	e.check = e.newClient()
	e.leaseCli = e.newClient()
	// Cleanups run in reverse: these run before the clients close.
	t.Cleanup(e.stopAll)
	e.lagStop, e.lagStopped = make(chan struct{}), make(chan struct{})
	go e.measureLag()

	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if !cfg.noLease {
		e.startLease(ctx)
	}
	resp, err := e.check.Get(ctx, e.prefix, client.WithPrefix())
	if err != nil {
		t.Fatalf("start revision: %v", err)
	}
	e.startRev = resp.Header.Revision
	e.watch = startWatch(e.load[0], e.prefix, e.startRev+1)
	return e
}

func (e *env) newClient() *client.Client {
	e.t.Helper()
	c, err := client.New(client.Config{Endpoints: e.cl.Endpoints(), DialTimeout: 30 * time.Second})
	if err != nil {
		e.t.Fatalf("client: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// stopAll ends the load, the watcher and the keepalive; idempotent.
func (e *env) stopAll() {
	if e.lagStop != nil {
		select {
		case <-e.lagStop:
		default:
			close(e.lagStop)
			<-e.lagStopped
		}
	}
	e.stopLoad()
	if e.watch != nil {
		e.watch.stop()
	}
	if e.kaCancel != nil {
		e.kaCancel()
		<-e.kaDone
	}
}

// startLoad starts the load processes.
func (e *env) startLoad() {
	ctx, cancel := context.WithCancel(context.Background())
	e.loadCancel = cancel
	for ci, cli := range e.load {
		for p := range e.cfg.procsPerClient {
			proc := ci*e.cfg.procsPerClient + p
			e.loadWG.Add(1)
			go func() {
				defer e.loadWG.Done()
				e.worker(ctx, proc, cli)
			}()
		}
	}
}

// stopLoad stops the load and waits for the operations in flight.
func (e *env) stopLoad() {
	e.loadOnce.Do(func() {
		if e.loadCancel != nil {
			e.loadCancel()
		}
	})
	e.loadWG.Wait()
}

// worker is one sequential process of the load: random operations on a
// random key, each with a fresh unique value, until ctx ends.
func (e *env) worker(ctx context.Context, proc int, cli *client.Client) {
	rng := rand.New(rand.NewPCG(e.seed, uint64(proc)))
	// seen is the last value this process knows for a key ("" for
	// absent), which its compare-and-swaps expect; a key is missing after
	// a write of unknown outcome.
	seen := map[string]string{}
	for seq := 0; ctx.Err() == nil && (e.cfg.ops <= 0 || seq < e.cfg.ops); seq++ {
		key := e.keys[rng.IntN(len(e.keys))]
		in := kvInput{Key: key, Value: fmt.Sprintf("p%d-%d", proc, seq)}
		switch x := rng.IntN(100); {
		case x < 40:
			in.Kind, in.Value = opGet, ""
		case x < 65:
			in.Kind = opPut
		case x < 75:
			in.Kind, in.Value = opDelete, ""
		default:
			in.Kind, in.Expect = opCAS, seen[key]
		}
		timeout := writeTimeout
		if in.Kind == opGet {
			timeout = readTimeout
		}
		// Not derived from ctx: stopping the load lets calls in flight
		// finish, so that no read fails because the test ended.
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		epoch := e.quorumEpoch.Load()
		out, err := e.rec.do(cctx, cli, proc, in)
		noQuorum := epoch%2 == 1 || e.quorumEpoch.Load() != epoch
		cancel()
		switch {
		case err != nil && in.Kind == opGet && noQuorum:
			e.readExempt.Add(1)
		case err != nil && in.Kind == opGet:
			e.errMu.Lock()
			e.readErrs = append(e.readErrs, fmt.Sprintf("proc %d get %s: %v", proc, key, err))
			e.errMu.Unlock()
		case err != nil:
			delete(seen, key)
		case in.Kind == opGet:
			e.readOK.Add(1)
			seen[key] = out.Value
		case in.Kind == opPut || (in.Kind == opCAS && out.Succeeded):
			seen[key] = in.Value
		default: // a delete, or a failed cas that read the key
			seen[key] = out.Value
		}
		if e.cfg.pace > 0 {
			time.Sleep(e.cfg.pace)
		}
	}
}

// readFailures returns the failed reads so far.
func (e *env) readFailures() []string {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	return slices.Clone(e.readErrs)
}

// waitHealthy waits until every member runs and follows one leader.
func (e *env) waitHealthy(ctx context.Context) error {
	for {
		var lead uint64
		ok := true
		for _, m := range e.cl.Members() {
			srv := m.Etcd()
			if srv == nil || !m.Running() {
				ok = false
				break
			}
			l := uint64(srv.Server.Leader())
			if l == 0 || (lead != 0 && l != lead) {
				ok = false
				break
			}
			lead = l
		}
		if ok {
			lctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := e.cl.Leader(lctx)
			cancel()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// leader returns the current leader.
func (e *env) leader() *etcdtest.Member {
	e.t.Helper()
	return e.cl.WaitLeader(e.t)
}

// follower returns the n-th follower (modulo their number).
func (e *env) follower(n int) *etcdtest.Member {
	e.t.Helper()
	l := e.leader()
	var fs []*etcdtest.Member
	for _, m := range e.cl.Members() {
		if m != l && m.Running() {
			fs = append(fs, m)
		}
	}
	if len(fs) == 0 {
		e.t.Fatalf("no running follower")
	}
	return fs[n%len(fs)]
}

// fence writes a new value under the prefix through the checking client,
// recorded like the load, until a write is acknowledged, and returns its
// revision.
func (e *env) fence(ctx context.Context) (int64, error) {
	for {
		e.fenceSeq++
		in := kvInput{Kind: opPut, Key: e.prefix + "fence", Value: fmt.Sprintf("fence-%d", e.fenceSeq)}
		cctx, cancel := context.WithTimeout(ctx, writeTimeout)
		out, err := e.rec.do(cctx, e.check, fenceProc, in)
		cancel()
		if err == nil {
			return out.Rev, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("fence write: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// run is what a finished run recorded.
type run struct {
	history  []porcupine.Operation
	events   []watchEvent
	restarts int // how often the watch was made again
	startRev int64
	endRev   int64
	final    map[string]kvOutput // the final state of every key present
}

// collect stops the load, reads the final state, waits for the watch to
// deliver it and returns everything recorded.
func (e *env) collect() *run {
	t := e.t
	t.Helper()
	if e.cfg.ops > 0 {
		e.loadWG.Wait() // a bounded load ends by itself
	}
	e.stopLoad()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := e.waitHealthy(ctx); err != nil {
		t.Fatalf("final: %v", err)
	}

	// The final state, one read of the prefix, recorded as a get of
	// every key at the same time.
	call := e.rec.now()
	final, err := e.check.Get(ctx, e.prefix, client.WithPrefix())
	ret := e.rec.now()
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	r := &run{startRev: e.startRev, endRev: final.Header.Revision, final: map[string]kvOutput{}}
	for _, kv := range final.Kvs {
		r.final[string(kv.Key)] = kvOutput{Exists: true, Value: string(kv.Value), ModRev: kv.ModRevision, Rev: r.endRev}
	}
	for _, k := range append(slices.Clone(e.keys), e.prefix+"fence") {
		out, ok := r.final[k]
		if !ok {
			out = kvOutput{Rev: r.endRev}
		}
		e.rec.add(finalProc, kvInput{Kind: opGet, Key: k}, call, out, ret)
	}

	if err := e.watch.waitRev(ctx, r.endRev); err != nil {
		t.Errorf("final: watch did not reach revision %d: %v", r.endRev, err)
	}
	var werr error
	r.events, r.restarts, werr = e.watch.stop()
	if werr != nil {
		t.Errorf("final: watch ended: %v", werr)
	}
	r.history = e.rec.snapshot()
	return r
}

// finish collects the run and checks the whole history.
func (e *env) finish() {
	t := e.t
	t.Helper()
	r := e.collect()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	e.checkLease(ctx, "final")
	r.history = e.rec.snapshot() // with the lease's expiry, if it was lost

	checkStart := time.Now()
	if err := checkLinearizable(r.history, os.TempDir(), t.Name()); err != nil {
		t.Errorf("linearizability: %v", err)
	}
	linTime := time.Since(checkStart)
	if err := checkRevisionOrder(r.history); err != nil {
		t.Errorf("revision order:\n%v", err)
	}
	if err := checkReadRevisions(r.history); err != nil {
		t.Errorf("read revisions:\n%v", err)
	}
	if err := checkWatch(r.events, r.startRev, r.endRev, r.history); err != nil {
		t.Errorf("watch:\n%v", err)
	}
	if err := checkFinalState(r.events, r.final, r.history); err != nil {
		t.Errorf("final state:\n%v", err)
	}
	mvcc, err := checkNoLostWrites(ctx, e.check, r.history)
	if err != nil {
		t.Errorf("acknowledged writes:\n%v", err)
	}
	reads := e.readFailures()
	if len(reads) > 0 {
		t.Errorf("%d of %d reads failed while a quorum ran:\n%s", len(reads), int(e.readOK.Load())+len(reads), strings.Join(reads[:min(len(reads), 10)], "\n"))
	}
	lease := fmt.Sprintf("lease %x renewed %d times and alive", e.lease, e.kaCount.Load())
	switch {
	case e.cfg.noLease:
		lease = "no lease"
	case e.leaseLost:
		lease = fmt.Sprintf("lease %x lost while the process was starved (not checked)", e.lease)
	}
	t.Logf("checked %d rounds: %v; linearizable (checked in %v); %d reads ok, %d failed with a quorum, %d failed without; "+
		"%d watch events for revisions %d..%d (%d re-watches); %d acknowledged writes found at their revision; %s",
		e.rounds, statsOf(r.history), linTime.Round(time.Millisecond), e.readOK.Load(), len(reads), e.readExempt.Load(),
		len(r.events), r.startRev+1, r.endRev, r.restarts, mvcc, lease)
}
