package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/kubernetes"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	refk8s "go.etcd.io/etcd/client/v3/kubernetes"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
}

func setup(t *testing.T) (*kubernetes.Client, *refk8s.Client, context.Context) {
	t.Helper()
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours, err := kubernetes.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ours.Close() })
	ref, err := refk8s.New(clientv3.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ours, ref, ctx
}

func render(kvs ...*mvccpb.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		if kv == nil {
			b.WriteString("<nil> ")
			continue
		}
		fmt.Fprintf(&b, "%q=%q c%d m%d v%d l%d; ", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease)
	}
	return b.String()
}

// TestReadsMatchOfficial compares Get, List (with paging) and Count with the
// official kubernetes client on the same data.
func TestReadsMatchOfficial(t *testing.T) {
	ours, ref, ctx := setup(t)
	k8s := ours.Kubernetes
	for i := range 7 {
		if _, err := ours.Put(ctx, fmt.Sprintf("/registry/pods/p%d", i), fmt.Sprintf("pod-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"/registry/pod", "/registry/pods0", "/registry/podsX/a", "/registry/services/s"} {
		if _, err := ours.Put(ctx, k, "other"); err != nil {
			t.Fatal(err)
		}
	}
	first, err := ours.Put(ctx, "/registry/pods/p0", "pod-0b")
	if err != nil {
		t.Fatal(err)
	}
	oldRev := first.Header.Revision - 1

	for _, key := range []string{"/registry/pods/p0", "/registry/pods/none"} {
		for _, rev := range []int64{0, oldRev} {
			got, err := k8s.Get(ctx, key, kubernetes.GetOptions{Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Get(ctx, key, refk8s.GetOptions{Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			if render(got.KV) != render(want.KV) || got.Revision != want.Revision {
				t.Fatalf("Get(%q, rev %d) = %s@%d, official %s@%d", key, rev, render(got.KV), got.Revision, render(want.KV), want.Revision)
			}
		}
	}

	// Page through the pods, two at a time, as Kubernetes does.
	for _, rev := range []int64{0, oldRev} {
		cont, pages := "", 0
		for {
			got, err := k8s.List(ctx, "/registry/pods/", kubernetes.ListOptions{Limit: 2, Continue: cont, Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.List(ctx, "/registry/pods/", refk8s.ListOptions{Limit: 2, Continue: cont, Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			if render(got.Kvs...) != render(want.Kvs...) || got.Count != want.Count || got.Revision != want.Revision {
				t.Fatalf("List page %d (rev %d):\n got  %s count %d rev %d\n want %s count %d rev %d", pages, rev,
					render(got.Kvs...), got.Count, got.Revision, render(want.Kvs...), want.Count, want.Revision)
			}
			pages++
			if len(got.Kvs) < 2 || int64(len(got.Kvs)) == got.Count {
				break
			}
			cont = string(got.Kvs[len(got.Kvs)-1].Key) + "\x00"
		}
		if pages != 4 {
			t.Fatalf("listed 7 pods in %d pages of 2", pages)
		}
	}
	got, err := k8s.List(ctx, "/registry/", kubernetes.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 11 || len(got.Kvs) != 11 {
		t.Fatalf("List(/registry/) = %d keys, count %d", len(got.Kvs), got.Count)
	}

	for _, prefix := range []string{"/registry/pods/", "/registry/", "/nothing/"} {
		n, err := k8s.Count(ctx, prefix, kubernetes.CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := ref.Count(ctx, prefix, refk8s.CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n != m {
			t.Fatalf("Count(%q) = %d, official %d", prefix, n, m)
		}
	}

	if _, err := k8s.List(ctx, "/registry/pods/", kubernetes.ListOptions{Continue: "/registry/services/"}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("List with a continue key outside the prefix: %v", err)
	}
	_, err = k8s.Get(ctx, "/registry/pods/p0", kubernetes.GetOptions{Revision: 1 << 40})
	_, rerr := ref.Get(ctx, "/registry/pods/p0", refk8s.GetOptions{Revision: 1 << 40})
	if err != rpctypes.ErrFutureRev || rerr != rpctypes.ErrFutureRev {
		t.Fatalf("Get at a future revision: %v, official %v", err, rerr)
	}
}

// TestOptimisticWrites runs the same optimistic writes through both clients
// on keys of their own, and checks that they succeed and fail alike, and
// that our responses carry the key as written (where the official client
// leaves KV nil on success).
func TestOptimisticWrites(t *testing.T) {
	ours, ref, ctx := setup(t)
	k8s := ours.Kubernetes
	lease, err := ours.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	current := func(key string) *mvccpb.KeyValue {
		t.Helper()
		r, err := ours.Client.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Kvs) == 0 {
			return nil
		}
		return r.Kvs[0]
	}
	// summary is what must agree between the two clients: revisions differ
	// since the two run one after the other.
	summary := func(ok bool, kv *mvccpb.KeyValue) string {
		if kv == nil {
			return fmt.Sprintf("%v <nil>", ok)
		}
		return fmt.Sprintf("%v %q v%d", ok, kv.Value, kv.Version)
	}
	for _, getOnFailure := range []bool{false, true} {
		k, rk := fmt.Sprintf("/ours/%v", getOnFailure), fmt.Sprintf("/ref/%v", getOnFailure)

		// Create: expected revision 0 means "must not exist".
		got, err := k8s.OptimisticPut(ctx, k, []byte("v1"), 0, kubernetes.PutOptions{GetOnFailure: getOnFailure, LeaseID: lease.ID})
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.OptimisticPut(ctx, rk, []byte("v1"), 0, refk8s.PutOptions{GetOnFailure: getOnFailure, LeaseID: clientv3.LeaseID(lease.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Succeeded || !want.Succeeded || want.KV != nil {
			t.Fatalf("create: ours %+v, official %+v", got, want)
		}
		if cur := current(k); !proto.Equal(cur, got.KV) || cur.ModRevision != got.Revision {
			t.Fatalf("create returned %s, key is %s", render(got.KV), render(cur))
		}

		// A second create fails: the key exists.
		got, err = k8s.OptimisticPut(ctx, k, []byte("v2"), 0, kubernetes.PutOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		want, err = ref.OptimisticPut(ctx, rk, []byte("v2"), 0, refk8s.PutOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := summary(got.Succeeded, got.KV), summary(want.Succeeded, want.KV); g != w || got.Succeeded {
			t.Fatalf("second create: ours %s, official %s", g, w)
		}
		if getOnFailure && !proto.Equal(got.KV, current(k)) {
			t.Fatalf("failed put returned %s, key is %s", render(got.KV), render(current(k)))
		}

		// An update at the right revision succeeds and keeps the create
		// revision; at a stale one it fails.
		mod, rmod := current(k).ModRevision, current(rk).ModRevision
		got, err = k8s.OptimisticPut(ctx, k, []byte("v3"), mod, kubernetes.PutOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		want, err = ref.OptimisticPut(ctx, rk, []byte("v3"), rmod, refk8s.PutOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Succeeded || !want.Succeeded {
			t.Fatalf("update: ours %+v, official %+v", got, want)
		}
		if cur := current(k); !proto.Equal(cur, got.KV) || cur.Version != 2 {
			t.Fatalf("update returned %s, key is %s", render(got.KV), render(cur))
		}
		got, err = k8s.OptimisticPut(ctx, k, []byte("v4"), mod, kubernetes.PutOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		want, err = ref.OptimisticPut(ctx, rk, []byte("v4"), rmod, refk8s.PutOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := summary(got.Succeeded, got.KV), summary(want.Succeeded, want.KV); g != w || got.Succeeded {
			t.Fatalf("stale update: ours %s, official %s", g, w)
		}

		// Delete at a stale revision fails, at the current one succeeds
		// and returns what was deleted.
		delGot, err := k8s.OptimisticDelete(ctx, k, mod, kubernetes.DeleteOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		delWant, err := ref.OptimisticDelete(ctx, rk, rmod, refk8s.DeleteOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := summary(delGot.Succeeded, delGot.KV), summary(delWant.Succeeded, delWant.KV); g != w || delGot.Succeeded {
			t.Fatalf("stale delete: ours %s, official %s", g, w)
		}
		before := current(k)
		delGot, err = k8s.OptimisticDelete(ctx, k, before.ModRevision, kubernetes.DeleteOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		delWant, err = ref.OptimisticDelete(ctx, rk, current(rk).ModRevision, refk8s.DeleteOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		if !delGot.Succeeded || !delWant.Succeeded || !proto.Equal(delGot.KV, before) || current(k) != nil {
			t.Fatalf("delete: ours %+v (key was %s), official %+v", delGot, render(before), delWant)
		}
		// Deleting a missing key at revision 0 "succeeds" alike: the
		// compare holds and nothing is deleted.
		delGot, err = k8s.OptimisticDelete(ctx, k, 0, kubernetes.DeleteOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		delWant, err = ref.OptimisticDelete(ctx, rk, 0, refk8s.DeleteOptions{GetOnFailure: getOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := summary(delGot.Succeeded, delGot.KV), summary(delWant.Succeeded, delWant.KV); g != w {
			t.Fatalf("delete of a missing key: ours %s, official %s", g, w)
		}
	}
}
