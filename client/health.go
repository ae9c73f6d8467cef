package client

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Hung-member detection; doc.go (Connection) describes the design.
const (
	// healthCheckMethod is the probe: the gRPC health service, which etcd
	// serves without touching raft or the store, so it answers fast on a
	// live member whatever the cluster's state.
	healthCheckMethod = "/grpc.health.v1.Health/Check"
	// healthTick is how often the monitor looks at the endpoints while
	// calls are in flight or an endpoint is suspect.
	healthTick = 100 * time.Millisecond
	// staleAfter is how long an endpoint may hold calls without sending any
	// answer before it is suspect: long enough that a member busy with one
	// large range is probed, not shunned, since the probe clears it.
	staleAfter = 500 * time.Millisecond
	// probeTimeout bounds one probe. A member that does not answer it is
	// hung: its read attempts are moved to other members.
	probeTimeout = 500 * time.Millisecond
	// reprobeEvery is the pause between probes of a suspect endpoint.
	reprobeEvery = 500 * time.Millisecond
	// streamCheckEvery is how often an endpoint holding a watch or lease
	// keepalive stream, and heard from by nothing else, is probed: an idle
	// stream looks the same on a live member and on a hung one.
	streamCheckEvery = time.Second
)

// errEndpointHung is the cause with which a read attempt on a member that
// stopped answering is cancelled, to be sent again elsewhere.
var errEndpointHung = errors.New("etcdclient: endpoint stopped answering")

// healthTracker keeps the health of each endpoint of the balanced
// connection. The picker (balancer.go) counts the unary calls in flight
// per endpoint and the answers they got; a monitor goroutine, running only
// while calls are in flight or an endpoint is suspect, compares the two
// and probes an endpoint that holds calls without answering.
type healthTracker struct {
	ctx  context.Context // the client's: probes and the monitor end with it
	conn *grpc.ClientConn
	lg   *zap.Logger
	base time.Time // origin of the monitor's clock

	mu     sync.Mutex
	states map[string]*epHealth // by resolved address
	closed bool
	wg     sync.WaitGroup // the monitor and its probes

	running atomic.Bool // the monitor runs (or is starting)
	multi   atomic.Bool // more than one endpoint: reads can move

	amu sync.Mutex // guards every epHealth.attempts list and attempt links
}

// epHealth is the health of one endpoint.
type epHealth struct {
	t    *healthTracker
	addr string

	// suspect endpoints get no new calls while another endpoint is not
	// suspect.
	suspect atomic.Bool
	// hung is set when a probe went unanswered, cleared by an answer.
	hung      atomic.Bool
	probing   atomic.Bool
	inflight  atomic.Int64  // unary calls picked and not done
	streams   atomic.Int64  // watch and keepalive streams open here
	responses atomic.Uint64 // calls done with bytes from the server
	aliveAt   atomic.Int64  // monitor clock of the last probe answered
	doneFn    func(balancer.DoneInfo)

	// Read by the monitor goroutine only.
	seenResp   uint64
	progressAt int64 // monitor clock of the last sign of progress
	heardAt    int64 // monitor clock when a call last got an answer
	probedAt   int64

	attempts *attempt // read attempts in flight here; guarded by t.amu
}

func newHealthTracker(ctx context.Context, lg *zap.Logger) *healthTracker {
	return &healthTracker{ctx: ctx, lg: lg, base: time.Now(), states: map[string]*epHealth{}}
}

// now is the monitor's clock: monotonic nanoseconds since the tracker began.
func (t *healthTracker) now() int64 { return int64(time.Since(t.base)) }

// setAddrs drops the state of endpoints no longer in use.
func (t *healthTracker) setAddrs(addrs []string) {
	keep := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		keep[a] = true
	}
	t.mu.Lock()
	for a := range t.states {
		if !keep[a] {
			delete(t.states, a)
		}
	}
	t.mu.Unlock()
	t.multi.Store(len(keep) > 1)
}

// state returns the health of addr, created on first use.
func (t *healthTracker) state(addr string) *epHealth {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.states[addr]
	if !ok {
		st = &epHealth{t: t, addr: addr, progressAt: t.now()}
		st.doneFn = st.done // bound once: no allocation per call
		t.states[addr] = st
	}
	return st
}

// begin counts a unary call picked for this endpoint.
func (st *epHealth) begin(ctx context.Context) {
	if st.inflight.Add(1) == 1 && !st.t.running.Load() {
		st.t.kick()
	}
	if a, ok := ctx.Value(attemptKey{}).(*attempt); ok {
		st.t.link(a, st)
	}
}

// done is the Done callback of every tracked call. Any byte from the
// server proves the member alive.
func (st *epHealth) done(di balancer.DoneInfo) {
	st.inflight.Add(-1)
	if di.BytesReceived {
		st.responses.Add(1)
		if st.suspect.Load() {
			st.suspect.Store(false)
			st.recovered()
		}
	}
}

func (st *epHealth) recovered() {
	if st.hung.Swap(false) {
		st.t.lg.Info("etcdclient: endpoint answers again", zap.String("endpoint", st.addr))
	}
}

// kick starts the monitor unless it runs.
func (t *healthTracker) kick() {
	if !t.running.CompareAndSwap(false, true) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.ctx.Err() != nil {
		return // running stays set: nothing starts after close
	}
	t.wg.Add(1)
	go t.run()
}

// run is the monitor. It exits when no call is in flight and no endpoint
// is suspect, so an idle client has no timer; begin starts it again.
func (t *healthTracker) run() {
	defer t.wg.Done()
	tick := time.NewTicker(healthTick)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		if t.check() {
			continue
		}
		t.running.Store(false)
		// A call that began after check and saw running still set did not
		// start a monitor: look again before leaving.
		if !t.busy() || !t.running.CompareAndSwap(false, true) {
			return
		}
	}
}

func (t *healthTracker) snapshot() []*epHealth {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*epHealth, 0, len(t.states))
	for _, st := range t.states {
		out = append(out, st)
	}
	return out
}

func (t *healthTracker) busy() bool {
	for _, st := range t.snapshot() {
		if st.inflight.Load() > 0 || st.streams.Load() > 0 || st.suspect.Load() || st.probing.Load() {
			return true
		}
	}
	return false
}

// check looks at every endpoint once and reports whether the monitor is
// still needed.
func (t *healthTracker) check() bool {
	now := t.now()
	busy := false
	for _, st := range t.snapshot() {
		inflight, resp := st.inflight.Load(), st.responses.Load()
		if resp != st.seenResp {
			st.heardAt = now
		}
		if inflight <= 0 || resp != st.seenResp {
			st.seenResp, st.progressAt = resp, now
		}
		if a := st.aliveAt.Load(); a > st.progressAt {
			st.progressAt = a
		}
		switch suspect := st.suspect.Load(); {
		case st.probing.Load():
		case suspect && now-st.probedAt >= int64(reprobeEvery):
			t.probe(st, now)
		case !suspect && inflight > 0 && now-st.progressAt >= int64(staleAfter):
			// New calls go elsewhere at once; the probe decides whether
			// the member is hung or only slow.
			st.suspect.Store(true)
			t.probe(st, now)
		case !suspect && st.streams.Load() > 0 && now-max(st.heardAt, st.aliveAt.Load(), st.probedAt) >= int64(streamCheckEvery):
			// A check-up: the endpoint stays in the rotation unless the
			// probe goes unanswered.
			t.probe(st, now)
		}
		busy = busy || inflight > 0 || st.streams.Load() > 0 || st.suspect.Load() || st.probing.Load()
	}
	return busy
}

func (t *healthTracker) probe(st *epHealth, now int64) {
	st.probing.Store(true)
	st.probedAt = now
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer st.probing.Store(false)
		alive := t.ping(st.addr)
		if t.ctx.Err() != nil {
			return
		}
		if alive {
			st.aliveAt.Store(t.now())
			st.suspect.Store(false)
			st.recovered()
			return
		}
		st.suspect.Store(true)
		if !st.hung.Swap(true) {
			t.lg.Warn("etcdclient: endpoint does not answer; calls go to the others", zap.String("endpoint", st.addr))
		}
		t.rescue(st)
	}()
}

// ping sends one probe to addr on the balanced connection (the picker
// pins it to addr's connection) and reports whether the member answered.
// Any answer counts, an error status included: only silence is hung.
func (t *healthTracker) ping(addr string) bool {
	ctx, cancel := context.WithTimeout(context.WithValue(t.ctx, probeKey{}, addr), probeTimeout)
	defer cancel()
	err := t.conn.Invoke(ctx, healthCheckMethod, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}, grpc.WaitForReady(false))
	switch status.Code(err) {
	case codes.DeadlineExceeded, codes.Unavailable, codes.Canceled:
		return false
	}
	return true
}

// close waits for the monitor and probes, which end with the client's
// context.
func (t *healthTracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}

// attemptKey finds the *attempt in a call's context.
type attemptKey struct{}

// attempt is the context of one attempt of a read-only call, or of one
// watch or lease keepalive stream, on the balanced connection. The picker
// files it under the endpoint it picks, so that the attempt can be
// cancelled (and the read sent again, or the stream opened again,
// elsewhere) when that member is found hung.
type attempt struct {
	context.Context
	cancel     context.CancelCauseFunc
	stream     bool
	st         *epHealth // where it was picked; guarded by t.amu
	prev, next *attempt
}

func (a *attempt) Value(key any) any {
	if _, ok := key.(attemptKey); ok {
		return a
	}
	return a.Context.Value(key)
}

// newAttempt returns the context of a read attempt, or nil when the read
// has nowhere else to go (one endpoint).
func (t *healthTracker) newAttempt(ctx context.Context) *attempt {
	if !t.multi.Load() {
		return nil
	}
	actx, cancel := context.WithCancelCause(ctx)
	return &attempt{Context: actx, cancel: cancel}
}

// newStreamAttempt returns the context of a watch or lease keepalive
// stream, which resumes by itself on another member when its member is
// found hung, or ctx itself when there is no other member.
func (t *healthTracker) newStreamAttempt(ctx context.Context) (context.Context, *attempt) {
	a := t.newAttempt(ctx)
	if a == nil {
		return ctx, nil
	}
	a.stream = true
	return a, a
}

// link files a under st, moving it from where an earlier pick (gRPC's
// transparent retry) filed it.
func (t *healthTracker) link(a *attempt, st *epHealth) {
	t.amu.Lock()
	t.unlinkLocked(a)
	a.st, a.next = st, st.attempts
	if st.attempts != nil {
		st.attempts.prev = a
	}
	st.attempts = a
	t.amu.Unlock()
	if a.stream && st.streams.Add(1) == 1 && !t.running.Load() {
		t.kick()
	}
}

func (t *healthTracker) unlinkLocked(a *attempt) {
	if a.st == nil {
		return
	}
	if a.stream {
		a.st.streams.Add(-1)
	}
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		a.st.attempts = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	}
	a.st, a.prev, a.next = nil, nil, nil
}

// release ends attempt a (nil is allowed) and reports whether it was
// cancelled because its member was found hung.
func (t *healthTracker) release(a *attempt) bool {
	if a == nil {
		return false
	}
	t.amu.Lock()
	t.unlinkLocked(a)
	t.amu.Unlock()
	rescued := context.Cause(a.Context) == errEndpointHung
	a.cancel(nil)
	return rescued
}

// rescue cancels the read attempts waiting on st, whose member was found
// hung, and the streams open on it; invoke sends each read again on
// another member, and the watcher and the lessor open their streams again.
func (t *healthTracker) rescue(st *epHealth) {
	t.amu.Lock()
	var cancels []context.CancelCauseFunc
	for a := st.attempts; a != nil; a = a.next {
		cancels = append(cancels, a.cancel)
	}
	t.amu.Unlock()
	for _, cancel := range cancels {
		cancel(errEndpointHung)
	}
}
