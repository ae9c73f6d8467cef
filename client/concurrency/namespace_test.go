package concurrency_test

import (
	"slices"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client/concurrency"
	clientv3 "go.etcd.io/etcd/client/v3"
	officialconc "go.etcd.io/etcd/client/v3/concurrency"
	officialns "go.etcd.io/etcd/client/v3/namespace"
)

// TestWithNamespace: a session WithNamespace("ns/") locks and campaigns
// under ns/ without touching its client, and excludes the official client
// whose KV, Watcher and Lease are namespaced the clientv3 way.
func TestWithNamespace(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const ns, pfx = "ns/", "locks/ns"

	s := e.session(t, concurrency.WithNamespace(ns))
	m := concurrency.NewMutex(s, pfx)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if ks := e.keys(t, ns+pfx+"/"); !slices.Equal(ks, []string{ns + m.Key()}) {
		t.Fatalf("keys under %s%s/: %q, want only %s%s", ns, pfx, ks, ns, m.Key())
	}
	if ks := e.keys(t, pfx+"/"); len(ks) != 0 {
		t.Fatalf("keys outside the namespace: %q", ks)
	}

	// The official client, namespaced the clientv3 way, sees the lock.
	oc, err := clientv3.New(clientv3.Config{Endpoints: e.c.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	oc.KV = officialns.NewKV(oc.KV, ns)
	oc.Watcher = officialns.NewWatcher(oc.Watcher, ns)
	oc.Lease = officialns.NewLease(oc.Lease, ns)
	os, err := officialconc.NewSession(oc)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	om := officialconc.NewMutex(os, pfx)
	if err := om.TryLock(ctx); err != officialconc.ErrLocked {
		t.Fatalf("official TryLock in the namespace while we hold the lock: %v", err)
	}
	// Without the namespace, the same name is another lock.
	plain := concurrency.NewMutex(e.session(t), pfx)
	if err := plain.TryLock(ctx); err != nil {
		t.Fatalf("TryLock outside the namespace: %v", err)
	}
	if err := plain.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// A waiter in the namespace wakes when the holder unlocks.
	locked := make(chan error, 1)
	go func() { locked <- om.Lock(ctx) }()
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatalf("official Lock after our Unlock: %v", err)
	}
	if err := om.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// Elections: the leader's key is in the namespace, Leader answers
	// without the prefix, and the official client agrees.
	el := concurrency.NewElection(s, "elect/ns")
	if err := el.Campaign(ctx, "ours"); err != nil {
		t.Fatal(err)
	}
	if ks := e.keys(t, ns+"elect/ns/"); !slices.Equal(ks, []string{ns + el.Key()}) {
		t.Fatalf("election keys %q, want %s%s", ks, ns, el.Key())
	}
	leader, err := el.Leader(ctx)
	if err != nil || len(leader.Kvs) != 1 || string(leader.Kvs[0].Key) != el.Key() || string(leader.Kvs[0].Value) != "ours" {
		t.Fatalf("Leader: %v, %v", leader, err)
	}
	ol, err := officialconc.NewElection(os, "elect/ns").Leader(ctx)
	if err != nil || string(ol.Kvs[0].Value) != "ours" || string(ol.Kvs[0].Key) != el.Key() {
		t.Fatalf("official Leader: %v, %v", ol, err)
	}
	if err := el.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if ks := e.keys(t, ns+"elect/ns/"); len(ks) != 0 {
		t.Fatalf("election keys after Resign: %q", ks)
	}
}
