package etcdtest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func getWithin(cli *clientv3.Client, key string, d time.Duration, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return cli.Get(ctx, key, opts...)
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIsolateLeader(t *testing.T) {
	c := StartT(t, Options{Size: 3})
	all := newClient(t, nil, c.Endpoints()...)
	mustPut(t, all, "k", "1")
	old := c.WaitLeader(t)
	oc := newClient(t, nil, old.Endpoint())
	mustGet(t, oc, "k", "1")

	start := time.Now()
	if err := c.Isolate(old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the isolated leader to step down", 10*time.Second, func() bool { return !old.IsLeader() })
	nl := c.WaitLeader(t)
	t.Logf("new leader %s after %v", nl.Name(), time.Since(start))
	if nl == old {
		t.Fatal("isolated member is leader")
	}

	// The majority side serves writes and linearizable reads.
	nc := newClient(t, nil, nl.Endpoint())
	mustPut(t, nc, "k", "2")
	mustGet(t, nc, "k", "2")

	// The isolated member cannot serve a linearizable read, but still
	// serves a serializable one from its stale data.
	if _, err := getWithin(oc, "k", time.Second); err == nil {
		t.Fatal("linearizable read on the isolated member succeeded")
	}
	resp, err := getWithin(oc, "k", 2*time.Second, clientv3.WithSerializable())
	if err != nil {
		t.Fatalf("serializable read on the isolated member: %v", err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "1" {
		t.Fatalf("isolated member has %v, want the stale 1", resp.Kvs)
	}

	c.Heal()
	waitFor(t, "the healed member to catch up", 15*time.Second, func() bool {
		r, err := getWithin(oc, "k", time.Second)
		return err == nil && len(r.Kvs) == 1 && string(r.Kvs[0].Value) == "2"
	})
}

func TestIsolateFollower(t *testing.T) {
	c := StartT(t, Options{Size: 3})
	l := c.WaitLeader(t)
	var f *Member
	for _, m := range c.Members() {
		if m != l {
			f = m
			break
		}
	}
	fc := newClient(t, nil, f.Endpoint())
	lc := newClient(t, nil, l.Endpoint())
	mustPut(t, lc, "k", "1")
	mustGet(t, fc, "k", "1")

	if err := c.Isolate(f); err != nil {
		t.Fatal(err)
	}
	mustPut(t, lc, "k", "2")
	if _, err := getWithin(fc, "k", time.Second); err == nil {
		t.Fatal("linearizable read on the isolated follower succeeded")
	}
	if got := c.WaitLeader(t); got != l {
		t.Fatalf("leader changed from %s to %s", l.Name(), got.Name())
	}
	c.Heal()
	waitFor(t, "the healed follower to catch up", 15*time.Second, func() bool {
		r, err := getWithin(fc, "k", time.Second)
		return err == nil && len(r.Kvs) == 1 && string(r.Kvs[0].Value) == "2"
	})
}

func TestIsolateSingle(t *testing.T) {
	c := StartT(t, Options{})
	if err := c.Isolate(c.Member(0)); err == nil {
		t.Fatal("isolated the only member")
	}
}
