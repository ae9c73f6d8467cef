package namespace_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	refns "go.etcd.io/etcd/client/v3/namespace"
)

func eventString(typ mvccpb.Event_EventType, kv, prev *mvccpb.KeyValue) string {
	s := fmt.Sprintf("%s %q=%q m%d", typ, kv.Key, kv.Value, kv.ModRevision)
	if prev != nil {
		s += fmt.Sprintf(" prev %q=%q", prev.Key, prev.Value)
	}
	return s
}

// collect reads n events from a watch channel of ours, failing the test if
// the channel closes or stays silent.
func collect(t *testing.T, ch client.WatchChan, n int) []string {
	t.Helper()
	var out []string
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case wr, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %q", len(out), n, out)
			}
			if err := wr.Err(); err != nil {
				t.Fatalf("watch: %v", err)
			}
			for _, ev := range wr.Events {
				out = append(out, eventString(ev.Type, ev.Kv, ev.PrevKv))
			}
		case <-timeout:
			t.Fatalf("%d of %d events after 20 s: %q", len(out), n, out)
		}
	}
	return out
}

func collectRef(t *testing.T, ch clientv3.WatchChan, n int) []string {
	t.Helper()
	var out []string
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case wr, ok := <-ch:
			if !ok {
				t.Fatalf("official watch closed after %d of %d events", len(out), n)
			}
			for _, ev := range wr.Events {
				out = append(out, eventString(ev.Type, ev.Kv, ev.PrevKv))
			}
		case <-timeout:
			t.Fatalf("official: %d of %d events after 20 s: %q", len(out), n, out)
		}
	}
	return out
}

// TestWatchMatchesOfficial watches one namespace through both packages and
// compares the events, revisions included.
func TestWatchMatchesOfficial(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	cur, err := p.ours.Get(ctx, "any")
	if err != nil {
		t.Fatal(err)
	}
	start := cur.Header.Revision + 1

	ours := namespace.NewWatcher(client.NewWatcher(p.ours), "w/")
	defer ours.Close()
	ref := refns.NewWatcher(clientv3.NewWatcher(p.ref), "w/")
	defer ref.Close()

	type watchCase struct {
		name string
		key  string
		oo   []client.OpOption
		ro   []clientv3.OpOption
		n    int
	}
	cases := []watchCase{
		{"whole namespace", "", []client.OpOption{client.WithPrefix()}, []clientv3.OpOption{clientv3.WithPrefix()}, 5},
		{"one key", "a", nil, nil, 3},
		{"from key", "b", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}, 2},
		{"range", "a", []client.OpOption{client.WithRange("b\x00")}, []clientv3.OpOption{clientv3.WithRange("b\x00")}, 4},
	}
	ourChans := make([]client.WatchChan, len(cases))
	refChans := make([]clientv3.WatchChan, len(cases))
	for i, c := range cases {
		ourChans[i] = ours.Watch(ctx, c.key, append(c.oo, client.WithRev(start), client.WithPrevKV())...)
		refChans[i] = ref.Watch(ctx, c.key, append(c.ro, clientv3.WithRev(start), clientv3.WithPrevKV())...)
	}

	writes := []struct{ key, val string }{
		{"w/a", "1"}, {"x/a", "out"}, {"w", "out"}, {"w0", "out"}, {"w/b", "2"},
		{"w/a", "3"}, {"", ""}, {"w/\xff", "4"}, {"v/z", "out"},
	}
	for _, w := range writes {
		if w.key == "" {
			if _, err := p.ours.Delete(ctx, "w/a"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := p.ours.Put(ctx, w.key, w.val); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cases {
		got := collect(t, ourChans[i], c.n)
		want := collectRef(t, refChans[i], c.n)
		if !slices.Equal(got, want) {
			t.Fatalf("%s:\n got  %q\n want %q", c.name, got, want)
		}
	}
	all := collect(t, ours.Watch(ctx, "", client.WithPrefix(), client.WithRev(start)), 5)
	if all[0] != fmt.Sprintf("PUT \"a\"=\"1\" m%d", start) {
		t.Fatalf("first event %q", all[0])
	}

	// Close ends every watch of the namespaced Watcher.
	ch := ours.Watch(ctx, "k")
	if err := ours.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch still open after Close")
	}
}

// TestWatchContextEnds cancels a namespaced watch whose consumer stopped
// reading: its channel closes and nothing is left running.
func TestWatchContextEnds(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	w := namespace.NewWatcher(client.NewWatcher(p.ours), "c/")
	defer w.Close()
	wctx, cancel := context.WithCancel(ctx)
	ch := w.Watch(wctx, "k", client.WithPrefix())
	for i := range 20 {
		if _, err := p.ours.Put(ctx, fmt.Sprintf("c/k%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch not closed after its context ended")
		}
	}
}

// TestLeaseTimeToLive lists the keys of a lease through both packages: only
// the keys in the namespace, without the prefix.
func TestLeaseTimeToLive(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	g, err := p.ours.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"l/a", "l/b/c", "l", "l0", "m/a"} {
		if _, err := p.ours.Put(ctx, k, "v", client.WithLease(g.ID)); err != nil {
			t.Fatal(err)
		}
	}
	ours := namespace.NewLease(p.ours.Lease, "l/")
	ref := refns.NewLease(p.ref.Lease, "l/")
	got, err := ours.TimeToLive(ctx, g.ID, client.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.TimeToLive(ctx, clientv3.LeaseID(g.ID), clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	keys := func(ks [][]byte) []string {
		var out []string
		for _, k := range ks {
			out = append(out, string(k))
		}
		slices.Sort(out)
		return out
	}
	if gk, wk := keys(got.Keys), keys(want.Keys); !slices.Equal(gk, wk) || !slices.Equal(gk, []string{"a", "b/c"}) {
		t.Fatalf("attached keys %q, official %q", gk, wk)
	}
	if got.ID != g.ID || got.GrantedTTL != want.GrantedTTL {
		t.Fatalf("TimeToLive = %+v, official %+v", got, want)
	}
	// The lease's other calls pass through.
	if _, err := ours.Revoke(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	r, err := p.ours.Get(ctx, "l", client.WithPrefix(), client.WithCountOnly())
	if err != nil || r.Count != 0 {
		t.Fatalf("keys left after revoke: %v, %v", r, err)
	}
}
