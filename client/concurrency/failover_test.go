package concurrency_test

import (
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client/concurrency"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestWaitSurvivesLeaderChange stops the leader of a three-member cluster
// while a Lock and a Campaign wait: both are granted once the holders
// release, and Observe reports the new leader.
func TestWaitSurvivesLeaderChange(t *testing.T) {
	c := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	e := &env{c: c, cli: newClient(t, c), oracle: newOracle(t, c)}
	ctx := testCtx(t, 90*time.Second)

	m1 := concurrency.NewMutex(e.session(t), "failover/lock")
	if err := m1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	m2 := concurrency.NewMutex(e.session(t), "failover/lock")
	locked := make(chan error, 1)
	go func() { locked <- m2.Lock(ctx) }()

	e1 := concurrency.NewElection(e.session(t), "failover/election")
	if err := e1.Campaign(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	e2 := concurrency.NewElection(e.session(t), "failover/election")
	elected := make(chan error, 1)
	go func() { elected <- e2.Campaign(ctx, "two") }()
	obs := &observed{ch: concurrency.NewElection(e.session(t), "failover/election").Observe(ctx)}
	if v := obs.next(t); v != "one" {
		t.Fatalf("observed %q", v)
	}
	e.waitKeys(t, "failover/lock/", 2)
	e.waitKeys(t, "failover/election/", 2)

	leader := c.WaitLeader(t)
	if err := leader.Stop(); err != nil {
		t.Fatal(err)
	}
	c.WaitLeader(t)
	pending(t, locked, "Lock")
	pending(t, elected, "Campaign")

	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, locked, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := e1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, elected, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "two" {
		t.Fatalf("observed %q after the leader change, want two", v)
	}
	if err := m2.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
