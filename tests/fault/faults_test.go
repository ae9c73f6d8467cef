package fault

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// Who a fault hits.
type target int

const (
	leader target = iota
	follower
)

func (w target) String() string { return [...]string{"leader", "follower"}[w] }

func (e *env) pick(w target, round int) *etcdtest.Member {
	if w == leader {
		return e.leader()
	}
	return e.follower(round)
}

// restart brings a stopped member back; the round's verification then waits
// for it to rejoin.
func (e *env) restart(m *etcdtest.Member) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := m.Restart(ctx); err != nil {
		e.t.Fatalf("restart %s: %v", m.Name(), err)
	}
}

// kill stops a member abruptly (no leadership transfer) and restarts it.
func kill(w target) fault {
	return fault{name: "kill " + w.String(), inject: func(e *env, round int) func() {
		m := e.pick(w, round)
		if err := m.Kill(); err != nil {
			e.t.Fatalf("kill %s: %v", m.Name(), err)
		}
		return func() { e.restart(m) }
	}}
}

// stop stops a member gracefully (a leader hands over first) and restarts it.
func stop(w target) fault {
	return fault{name: "stop " + w.String(), inject: func(e *env, round int) func() {
		m := e.pick(w, round)
		if err := m.Stop(); err != nil {
			e.t.Fatalf("stop %s: %v", m.Name(), err)
		}
		return func() { e.restart(m) }
	}}
}

// rollingRestart stops and restarts every member in turn, waiting for the
// cluster to be whole again before the next one.
var rollingRestart = fault{name: "rolling restart", inject: func(e *env, round int) func() {
	for _, m := range e.cl.Members() {
		if err := m.Stop(); err != nil {
			e.t.Fatalf("stop %s: %v", m.Name(), err)
		}
		time.Sleep(200 * time.Millisecond)
		e.restart(m)
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		err := e.waitHealthy(ctx)
		cancel()
		if err != nil {
			e.t.Fatalf("after restarting %s: %v", m.Name(), err)
		}
	}
	return func() {}
}}

// blackhole makes the proxy in front of a member's client URL drop every
// byte: calls and streams through it hang until the proxy forwards again
// and closes the connections it corrupted.
func blackhole(w target) fault {
	return fault{name: "blackhole " + w.String() + " clients", inject: func(e *env, round int) func() {
		p := e.pick(w, round).Proxy()
		p.Blackhole()
		return p.Unblackhole
	}}
}

// pause makes the proxy in front of a member's client URL hold every byte
// until it resumes, as a hung member would.
func pause(w target) fault {
	return fault{name: "pause " + w.String() + " clients", inject: func(e *env, round int) func() {
		p := e.pick(w, round).Proxy()
		p.Pause()
		return p.Unpause
	}}
}

// dropConnections cuts every client connection to every member, again and
// again while the fault lasts.
var dropConnections = fault{name: "drop all client conns", inject: func(e *env, round int) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, m := range e.cl.Members() {
				m.Proxy().DropConnections()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}}

// isolate cuts a member off from its peers; it keeps serving its clients.
func isolate(w target) fault {
	return fault{name: "isolate " + w.String(), inject: func(e *env, round int) func() {
		m := e.pick(w, round)
		if err := e.cl.Isolate(m); err != nil {
			e.t.Fatalf("isolate %s: %v", m.Name(), err)
		}
		return e.cl.Heal
	}}
}

// isolateAndDrop isolates a member and cuts its client connections, so
// that calls and streams reconnect while it has no leader.
func isolateAndDrop(w target) fault {
	return fault{name: "isolate " + w.String() + " + drop conns", inject: func(e *env, round int) func() {
		m := e.pick(w, round)
		if err := e.cl.Isolate(m); err != nil {
			e.t.Fatalf("isolate %s: %v", m.Name(), err)
		}
		m.Proxy().DropConnections()
		return e.cl.Heal
	}}
}

// runFaults runs the rounds during the load and checks the whole history.
func runFaults(t *testing.T, faults []fault) {
	e := newEnv(t, 3, faultLoad)
	e.startLoad()
	for _, f := range faults {
		e.round(f)
	}
	e.finish()
}

// TestFaultsMemberStops kills and stops leaders and followers and restarts
// them, one at a time, while the load runs.
func TestFaultsMemberStops(t *testing.T) {
	runFaults(t, []fault{
		kill(follower), kill(leader), stop(follower), stop(leader),
		rollingRestart, kill(leader), stop(leader), kill(follower),
	})
}

// TestFaultsClientNetwork blackholes, pauses and cuts the connections
// between the clients and the members.
func TestFaultsClientNetwork(t *testing.T) {
	runFaults(t, []fault{
		blackhole(follower), blackhole(leader), dropConnections, pause(follower),
		pause(leader), dropConnections, blackhole(leader), pause(follower),
		blackhole(follower), dropConnections,
	})
}

// TestFaultsPartitions cuts leaders and followers off from their peers.
func TestFaultsPartitions(t *testing.T) {
	runFaults(t, []fault{
		isolate(leader), isolate(follower), isolateAndDrop(leader),
		isolate(follower), isolateAndDrop(follower), isolate(leader),
		isolateAndDrop(leader), isolate(follower),
	})
}

// withoutQuorum marks a fault that takes the cluster below quorum: reads
// that overlap it may fail, and its heal waits until the whole cluster is
// back before reads must succeed again.
func withoutQuorum(f fault) fault {
	return fault{name: f.name, noQuorum: true, hold: f.hold, inject: func(e *env, round int) func() {
		e.quorumEpoch.Add(1)
		heal := f.inject(e, round)
		return func() {
			heal()
			ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
			defer cancel()
			if err := e.waitHealthy(ctx); err != nil {
				e.t.Fatalf("%s: %v", f.name, err)
			}
			e.quorumEpoch.Add(1)
		}
	}}
}

// killFollowers kills both followers; the leader is left alone.
var killFollowers = withoutQuorum(fault{name: "kill both followers", inject: func(e *env, round int) func() {
	a, b := e.follower(0), e.follower(1)
	for _, m := range []*etcdtest.Member{a, b} {
		if err := m.Kill(); err != nil {
			e.t.Fatalf("kill %s: %v", m.Name(), err)
		}
	}
	return func() { e.restart(a); e.restart(b) }
}})

// stopLeaderKillFollower stops the leader gracefully (it hands over) and
// then kills a follower, which may be the new leader.
var stopLeaderKillFollower = withoutQuorum(fault{name: "stop leader, kill follower", inject: func(e *env, round int) func() {
	l := e.leader()
	if err := l.Stop(); err != nil {
		e.t.Fatalf("stop %s: %v", l.Name(), err)
	}
	var f *etcdtest.Member
	for _, m := range e.cl.Members() {
		if m != l {
			f = m
			break
		}
	}
	if err := f.Kill(); err != nil {
		e.t.Fatalf("kill %s: %v", f.Name(), err)
	}
	return func() { e.restart(f); e.restart(l) }
}})

// isolateAll cuts every member off from the others for hold.
func isolateAll(name string, hold time.Duration) fault {
	return withoutQuorum(fault{name: name, hold: hold, inject: func(e *env, round int) func() {
		for _, m := range e.cl.Members() {
			if err := e.cl.Isolate(m); err != nil {
				e.t.Fatalf("isolate %s: %v", m.Name(), err)
			}
		}
		return e.cl.Heal
	}})
}

// killAll kills every member and restarts the whole cluster from its data.
var killAll = withoutQuorum(fault{name: "kill all, restart all", inject: func(e *env, round int) func() {
	ms := e.cl.Members()
	for _, m := range ms {
		if err := m.Kill(); err != nil {
			e.t.Fatalf("kill %s: %v", m.Name(), err)
		}
	}
	return func() {
		for _, m := range ms {
			e.restart(m)
		}
	}
}})

// TestFaultsQuorumLoss takes the cluster below quorum and back. Reads that
// overlap a window without quorum may fail; the others must not. Without a
// quorum no renewal can be acknowledged, so the lease check is left to the
// other tests (the client rightly gives a lease up after its TTL). The long
// isolation outlasts the watcher's grace for a missing leader, so watches
// made WithRequireLeader end with ErrNoLeader and are made again from the
// next revision.
func TestFaultsQuorumLoss(t *testing.T) {
	cfg := faultLoad
	cfg.noLease = true
	e := newEnv(t, 3, cfg)
	e.startLoad()
	for _, f := range []fault{
		killFollowers, isolateAll("isolate every member", 0), stopLeaderKillFollower, killAll,
		isolateAll("isolate every member 7s", 7*time.Second),
	} {
		e.round(f)
	}
	e.finish()
}
