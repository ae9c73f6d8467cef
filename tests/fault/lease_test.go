package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/etcdscript/etcdscript/client"
)

// startLease grants the lease, attaches a key to it and keeps it alive.
func (e *env) startLease(ctx context.Context) {
	t := e.t
	t.Helper()
	g, err := e.leaseCli.Grant(ctx, leaseTTL)
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	e.lease = g.ID
	// A key on the lease, under the watched prefix but written before the
	// watch starts: if the lease expired, its deletion would show up as an
	// event no operation explains.
	if _, err := e.check.Put(ctx, e.prefix+"lease", "held", client.WithLease(e.lease)); err != nil {
		t.Fatalf("put on lease: %v", err)
	}
	kaCtx, kaCancel := context.WithCancel(context.Background())
	e.kaCancel = kaCancel
	if e.ka, err = e.leaseCli.KeepAlive(kaCtx, e.lease); err != nil {
		t.Fatalf("keepalive: %v", err)
	}
	e.kaDone = make(chan struct{})
	go func() {
		defer close(e.kaDone)
		for range e.ka {
			e.kaCount.Add(1)
			e.lastRenewal.Store(time.Now().UnixNano())
		}
	}()
}

// measureLag records how late a 10 ms timer fires: on a shared machine the
// whole process (members and clients alike) can be starved for seconds,
// which explains timeouts that no fault caused.
func (e *env) measureLag() {
	defer close(e.lagStopped)
	const tick = 10 * time.Millisecond
	for {
		start := time.Now()
		select {
		case <-e.lagStop:
			return
		case <-time.After(tick):
		}
		lag := int64(time.Since(start) - tick)
		if lag > e.maxLag.Load() {
			e.maxLag.Store(lag)
		}
		if lag > e.leaseLag.Load() {
			e.leaseLag.Store(lag)
		}
	}
}

// leaseAlive checks that the keepalive still runs and the server still
// knows the lease.
func (e *env) leaseAlive(ctx context.Context) error {
	if e.cfg.noLease {
		return nil
	}
	select {
	case <-e.kaDone:
		return fmt.Errorf("keepalive of lease %x ended: %v (last renewal delivered %v ago)", e.lease,
			client.KeepAliveError(e.ka), time.Since(time.Unix(0, e.lastRenewal.Load())).Round(time.Millisecond))
	default:
	}
	cctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	resp, err := e.check.TimeToLive(cctx, e.lease)
	if err != nil {
		return fmt.Errorf("time to live of lease %x: %w", e.lease, err)
	}
	// TTL is the remaining time in whole seconds: 0 is a lease with less
	// than a second left, -1 one that is gone.
	if resp.TTL < 0 {
		return fmt.Errorf("lease %x expired (TTL %d)", e.lease, resp.TTL)
	}
	return nil
}

// starvedLimit is how long the process may have been starved of CPU (see
// measureLag) for a lost lease to count against the client. Its keepalive
// renews a third of the TTL after each acknowledged renewal and gives a
// silent stream another third before moving to another member, which
// leaves a third of the TTL (1 s) of slack when a fault stalls the stream;
// a process frozen for half of that, servers included, can lose the lease
// with no fault of the client.
const starvedLimit = 500 * time.Millisecond

// leaseProc is the process id of the lease key's expiry, when recorded.
const leaseProc = 1002

// checkLease fails the test when the lease kept alive is gone, unless the
// process was starved for starvedLimit or more since the lease was last
// found alive: then the loss says nothing about the client, and the test
// says so, stops checking the lease and lets the watch checker accept the
// deletion of the lease's key.
func (e *env) checkLease(ctx context.Context, where string) {
	e.t.Helper()
	if e.cfg.noLease || e.leaseLost {
		return
	}
	err := e.leaseAlive(ctx)
	lag := time.Duration(e.leaseLag.Load())
	switch {
	case err == nil:
		e.leaseLag.Store(0)
	case lag < starvedLimit:
		e.t.Errorf("%s: %v (process starved up to %v meanwhile)", where, err, lag.Round(time.Millisecond))
	default:
		e.leaseLost = true
		e.t.Logf("%s: lease check inconclusive: %v; the process, etcd members included, was starved of CPU for up to %v "+
			"since the lease was last seen alive, too long for a 3 s TTL to prove anything; the lease is not checked again",
			where, err, lag.Round(time.Millisecond))
		e.rec.add(leaseProc, kvInput{Kind: opDelete, Key: e.prefix + "lease"}, 0, kvOutput{Unknown: true}, 0)
	}
}
