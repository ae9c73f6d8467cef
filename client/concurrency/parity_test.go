package concurrency_test

import (
	"context"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client/concurrency"
	clientv3 "go.etcd.io/etcd/client/v3"
	officialconc "go.etcd.io/etcd/client/v3/concurrency"
)

// TestParityObserveResponse: the responses of Observe are shaped as the
// official package's: one kv, a header, and Count 0 (the response is made
// up by Observe, not read as a range).
func TestParityObserveResponse(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, time.Minute)
	const pfx = "parity/observe"
	s := e.session(t)
	if err := concurrency.NewElection(s, pfx).Campaign(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	os, err := officialconc.NewSession(e.oracle)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()

	octx, stop := context.WithCancel(ctx)
	defer stop()
	theirs := firstObserved(t, officialconc.NewElection(os, pfx).Observe(octx))
	oursCh := concurrency.NewElection(e.session(t), pfx).Observe(octx)
	var ours *clientv3.GetResponse
	select {
	case r, ok := <-oursCh:
		if !ok {
			t.Fatal("Observe closed")
		}
		ours = (*clientv3.GetResponse)(r)
	case <-time.After(30 * time.Second):
		t.Fatal("Observe delivered nothing in 30 s")
	}
	if len(theirs.Kvs) != 1 || string(theirs.Kvs[0].Value) != "v1" || theirs.Count != 0 {
		t.Fatalf("official Observe = %+v (the oracle changed)", theirs)
	}
	if len(ours.Kvs) != 1 || string(ours.Kvs[0].Value) != "v1" || ours.Header == nil {
		t.Fatalf("Observe = %+v, want one kv v1 and a header", ours)
	}
	if ours.Count != theirs.Count {
		t.Errorf("Observe response Count = %d, want %d as the official package", ours.Count, theirs.Count)
	}
}

func firstObserved(t *testing.T, ch <-chan *clientv3.GetResponse) *clientv3.GetResponse {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("official Observe closed")
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("official Observe delivered nothing in 30 s")
	}
	return nil
}
