package namespace_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	refns "go.etcd.io/etcd/client/v3/namespace"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
}

// pair is our client and the official one on the same server.
type pair struct {
	ours *client.Client
	ref  *clientv3.Client
}

func newPair(t *testing.T) (*etcdtest.Cluster, pair) {
	t.Helper()
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ours.Close() })
	ref, err := clientv3.New(clientv3.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	return cl, pair{ours, ref}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// kvs renders key-value pairs without revisions, which differ between two
// namespaces written one after the other.
func kvs(list []*mvccpb.KeyValue) string {
	var b strings.Builder
	for _, kv := range list {
		if kv == nil {
			b.WriteString("<nil> ")
			continue
		}
		fmt.Fprintf(&b, "%q=%q(v%d) ", kv.Key, kv.Value, kv.Version)
	}
	return b.String()
}

// txnString renders a txn response, nested ones included, without revisions.
func txnString(r *pb.TxnResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "succeeded=%v [", r.Succeeded)
	for _, op := range r.Responses {
		switch v := op.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			fmt.Fprintf(&b, "range{%s count=%d more=%v} ", kvs(v.ResponseRange.Kvs), v.ResponseRange.Count, v.ResponseRange.More)
		case *pb.ResponseOp_ResponsePut:
			fmt.Fprintf(&b, "put{prev=%s} ", kvs([]*mvccpb.KeyValue{v.ResponsePut.PrevKv}))
		case *pb.ResponseOp_ResponseDeleteRange:
			fmt.Fprintf(&b, "delete{%d prev=%s} ", v.ResponseDeleteRange.Deleted, kvs(v.ResponseDeleteRange.PrevKvs))
		case *pb.ResponseOp_ResponseTxn:
			fmt.Fprintf(&b, "txn{%s} ", txnString(v.ResponseTxn))
		}
	}
	b.WriteString("]")
	return b.String()
}

// rawKeys lists every key on the server, outside any namespace.
func rawKeys(t *testing.T, ref *clientv3.Client) []string {
	t.Helper()
	r, err := ref.Get(testCtx(t), "\x00", clientv3.WithFromKey(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range r.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

// TestKVMatchesOfficial runs the same requests through our namespace KV
// (prefix "a/") and the official one (prefix "b/") on one server, compares
// every answer, then checks that both namespaces hold the same keys and
// that nothing outside them was touched.
func TestKVMatchesOfficial(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	outside := []string{"a", "a.", "a/", "a0", "b", "b.", "b0", "c/k1", "\xff"}
	for _, k := range outside {
		if _, err := p.ref.Put(ctx, k, "outside"); err != nil {
			t.Fatal(err)
		}
	}
	ours := namespace.NewKV(p.ours.KV, "a/")
	ref := refns.NewKV(p.ref.KV, "b/")

	type step struct {
		name string
		ours func() (string, error)
		ref  func() (string, error)
	}
	get := func(key string, oo []client.OpOption, ro []clientv3.OpOption) step {
		return step{
			name: fmt.Sprintf("get %q %d opts", key, len(oo)),
			ours: func() (string, error) {
				r, err := ours.Get(ctx, key, oo...)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%s count=%d more=%v", kvs(r.Kvs), r.Count, r.More), nil
			},
			ref: func() (string, error) {
				r, err := ref.Get(ctx, key, ro...)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%s count=%d more=%v", kvs(r.Kvs), r.Count, r.More), nil
			},
		}
	}
	put := func(key, val string, prev bool) step {
		var oo []client.OpOption
		var ro []clientv3.OpOption
		if prev {
			oo, ro = append(oo, client.WithPrevKV()), append(ro, clientv3.WithPrevKV())
		}
		return step{
			name: fmt.Sprintf("put %q", key),
			ours: func() (string, error) {
				r, err := ours.Put(ctx, key, val, oo...)
				if err != nil {
					return "", err
				}
				return kvs([]*mvccpb.KeyValue{r.PrevKv}), nil
			},
			ref: func() (string, error) {
				r, err := ref.Put(ctx, key, val, ro...)
				if err != nil {
					return "", err
				}
				return kvs([]*mvccpb.KeyValue{r.PrevKv}), nil
			},
		}
	}
	del := func(key string, oo []client.OpOption, ro []clientv3.OpOption) step {
		return step{
			name: fmt.Sprintf("delete %q %d opts", key, len(oo)),
			ours: func() (string, error) {
				r, err := ours.Delete(ctx, key, append(oo, client.WithPrevKV())...)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%d %s", r.Deleted, kvs(r.PrevKvs)), nil
			},
			ref: func() (string, error) {
				r, err := ref.Delete(ctx, key, append(ro, clientv3.WithPrevKV())...)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%d %s", r.Deleted, kvs(r.PrevKvs)), nil
			},
		}
	}
	txn := func(name string, o func() (*client.TxnResponse, error), r func() (*clientv3.TxnResponse, error)) step {
		return step{
			name: name,
			ours: func() (string, error) {
				resp, err := o()
				if err != nil {
					return "", err
				}
				return txnString((*pb.TxnResponse)(resp)), nil
			},
			ref: func() (string, error) {
				resp, err := r()
				if err != nil {
					return "", err
				}
				return txnString((*pb.TxnResponse)(resp)), nil
			},
		}
	}
	o, r := client.WithPrefix, clientv3.WithPrefix
	steps := []step{
		put("k1", "v1", false),
		put("k2", "v2", false),
		put("k3", "v3", false),
		put("k2", "v2b", true),
		put("l", "vl", true),
		put("\x00", "zero", false),
		put("\xff\xff", "high", false),
		get("k1", nil, nil),
		get("nope", nil, nil),
		get("k", []client.OpOption{o()}, []clientv3.OpOption{r()}),
		get("", []client.OpOption{o()}, []clientv3.OpOption{r()}),
		get("k2", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}),
		get("", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}),
		get("\x00", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}),
		get("k1", []client.OpOption{client.WithRange("k3")}, []clientv3.OpOption{clientv3.WithRange("k3")}),
		get("k1", []client.OpOption{client.WithRange("\xff\xff\xff")}, []clientv3.OpOption{clientv3.WithRange("\xff\xff\xff")}),
		get("", []client.OpOption{o(), client.WithLimit(2)}, []clientv3.OpOption{r(), clientv3.WithLimit(2)}),
		get("", []client.OpOption{o(), client.WithCountOnly()}, []clientv3.OpOption{r(), clientv3.WithCountOnly()}),
		get("", []client.OpOption{o(), client.WithKeysOnly(), client.WithSort(client.SortByKey, client.SortDescend)},
			[]clientv3.OpOption{r(), clientv3.WithKeysOnly(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)}),
		get("k", append(client.WithLastCreate(), o()), append(clientv3.WithLastCreate(), r())),
		txn("txn compares hold",
			func() (*client.TxnResponse, error) {
				return ours.Txn(ctx).If(
					client.Compare(client.Value("k1"), "=", "v1"),
					client.Compare(client.Version("k2"), "=", 2),
					client.Compare(client.CreateRevision("nope"), "=", 0),
					client.Compare(client.Version("k").WithPrefix(), ">", 0),
				).Then(
					client.OpPut("k4", "v4", client.WithPrevKV()),
					client.OpGet("k", client.WithPrefix()),
					client.OpTxn(
						[]client.Cmp{client.Compare(client.Value("k3"), "=", "v3")},
						[]client.Op{client.OpGet("k3"), client.OpDelete("l", client.WithPrevKV())},
						nil),
				).Else(client.OpGet("k1")).Commit()
			},
			func() (*clientv3.TxnResponse, error) {
				return ref.Txn(ctx).If(
					clientv3.Compare(clientv3.Value("k1"), "=", "v1"),
					clientv3.Compare(clientv3.Version("k2"), "=", 2),
					clientv3.Compare(clientv3.CreateRevision("nope"), "=", 0),
					clientv3.Compare(clientv3.Version("k").WithPrefix(), ">", 0),
				).Then(
					clientv3.OpPut("k4", "v4", clientv3.WithPrevKV()),
					clientv3.OpGet("k", clientv3.WithPrefix()),
					clientv3.OpTxn(
						[]clientv3.Cmp{clientv3.Compare(clientv3.Value("k3"), "=", "v3")},
						[]clientv3.Op{clientv3.OpGet("k3"), clientv3.OpDelete("l", clientv3.WithPrevKV())},
						nil),
				).Else(clientv3.OpGet("k1")).Commit()
			}),
		txn("txn compare fails",
			func() (*client.TxnResponse, error) {
				return ours.Txn(ctx).If(client.Compare(client.Value("k1"), "=", "other")).
					Then(client.OpPut("k9", "x")).
					Else(client.OpGet("", client.WithPrefix()), client.OpTxn(nil, []client.Op{client.OpGet("k2")}, nil)).Commit()
			},
			func() (*clientv3.TxnResponse, error) {
				return ref.Txn(ctx).If(clientv3.Compare(clientv3.Value("k1"), "=", "other")).
					Then(clientv3.OpPut("k9", "x")).
					Else(clientv3.OpGet("", clientv3.WithPrefix()), clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpGet("k2")}, nil)).Commit()
			}),
		txn("txn on a range compare of the whole namespace",
			func() (*client.TxnResponse, error) {
				return ours.Txn(ctx).If(client.Compare(client.Value("").WithPrefix(), "!=", "outside")).
					Then(client.OpGet("k1")).Commit()
			},
			func() (*clientv3.TxnResponse, error) {
				return ref.Txn(ctx).If(clientv3.Compare(clientv3.Value("").WithPrefix(), "!=", "outside")).
					Then(clientv3.OpGet("k1")).Commit()
			}),
		{
			name: "do get",
			ours: func() (string, error) {
				resp, err := ours.Do(ctx, client.OpGet("k", client.WithPrefix()))
				if err != nil {
					return "", err
				}
				return kvs(resp.Get().Kvs), nil
			},
			ref: func() (string, error) {
				resp, err := ref.Do(ctx, clientv3.OpGet("k", clientv3.WithPrefix()))
				if err != nil {
					return "", err
				}
				return kvs(resp.Get().Kvs), nil
			},
		},
		del("k1", []client.OpOption{client.WithRange("k3")}, []clientv3.OpOption{clientv3.WithRange("k3")}),
		del("k3", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}),
		get("", []client.OpOption{o()}, []clientv3.OpOption{r()}),
		put("m", "vm", false),
		del("", []client.OpOption{o()}, []clientv3.OpOption{r()}),
		get("", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}),
	}
	for _, s := range steps {
		got, err := s.ours()
		want, rerr := s.ref()
		if err != nil || rerr != nil {
			t.Fatalf("%s: error %v, official %v", s.name, err, rerr)
		}
		if got != want {
			t.Fatalf("%s:\n got  %s\n want %s", s.name, got, want)
		}
	}

	// Every namespace was emptied by its last delete; the keys around
	// them are still there.
	if got := rawKeys(t, p.ref); !slices.Equal(got, outside) {
		t.Fatalf("keys after the run: %q, want %q", got, outside)
	}
}

// TestKVReadsMatchOfficial reads one namespace through both packages: the
// answers must be identical, revisions included.
func TestKVReadsMatchOfficial(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	for _, k := range []string{"n", "n/", "n/a", "n/b/1", "n/b/2", "n/c", "n0", "m"} {
		if _, err := p.ref.Put(ctx, k, "v-"+k); err != nil {
			t.Fatal(err)
		}
	}
	ours := namespace.NewKV(p.ours.KV, "n/")
	ref := refns.NewKV(p.ref.KV, "n/")
	render := func(r *pb.RangeResponse) string {
		var b strings.Builder
		for _, kv := range r.Kvs {
			fmt.Fprintf(&b, "%q=%q c%d m%d v%d; ", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
		}
		fmt.Fprintf(&b, "count=%d more=%v rev=%d", r.Count, r.More, r.Header.Revision)
		return b.String()
	}
	cases := []struct {
		key string
		oo  []client.OpOption
		ro  []clientv3.OpOption
	}{
		{"a", nil, nil},
		{"b/", []client.OpOption{client.WithPrefix()}, []clientv3.OpOption{clientv3.WithPrefix()}},
		{"", []client.OpOption{client.WithPrefix()}, []clientv3.OpOption{clientv3.WithPrefix()}},
		{"b/2", []client.OpOption{client.WithFromKey()}, []clientv3.OpOption{clientv3.WithFromKey()}},
		{"a", []client.OpOption{client.WithRange("c")}, []clientv3.OpOption{clientv3.WithRange("c")}},
		{"", []client.OpOption{client.WithPrefix(), client.WithRev(3)}, []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(3)}},
		{"", []client.OpOption{client.WithPrefix(), client.WithLimit(1)}, []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithLimit(1)}},
	}
	for _, c := range cases {
		got, err := ours.Get(ctx, c.key, c.oo...)
		if err != nil {
			t.Fatalf("get %q: %v", c.key, err)
		}
		want, err := ref.Get(ctx, c.key, c.ro...)
		if err != nil {
			t.Fatalf("official get %q: %v", c.key, err)
		}
		if g, w := render((*pb.RangeResponse)(got)), render((*pb.RangeResponse)(want)); g != w {
			t.Errorf("get %q:\n got  %s\n want %s", c.key, g, w)
		}
	}
}

func TestKVGetStream(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	for i := range 50 {
		if _, err := p.ref.Put(ctx, fmt.Sprintf("s/k%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.ref.Put(ctx, "s0", "outside"); err != nil {
		t.Fatal(err)
	}
	ns := namespace.NewKV(p.ours.KV, "s/")
	want, err := ns.Get(ctx, "", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := ns.GetStream(ctx, "", client.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetStreamToGetResponse(ch)
	if err != nil {
		t.Fatalf("GetStream: %v", err)
	}
	if kvs(got.Kvs) != kvs(want.Kvs) || len(got.Kvs) != 50 || string(got.Kvs[0].Key) != "k00" {
		t.Fatalf("GetStream gave %s\nGet gave %s", kvs(got.Kvs), kvs(want.Kvs))
	}

	// A stream abandoned half way ends with its context.
	sctx, cancel := context.WithCancel(ctx)
	ch, err = ns.GetStream(sctx, "k", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range ch {
	}
}

func TestKVBadInput(t *testing.T) {
	_, p := newPair(t)
	ctx := testCtx(t)
	ns := namespace.NewKV(p.ours.KV, "x/")
	ref := refns.NewKV(p.ref.KV, "x/")

	_, err := ns.Get(ctx, "")
	_, rerr := ref.Get(ctx, "")
	if err != rpctypes.ErrEmptyKey || rerr != rpctypes.ErrEmptyKey {
		t.Errorf("Get(\"\") = %v, official %v", err, rerr)
	}
	if _, err := ns.Put(ctx, "", "v"); err != rpctypes.ErrEmptyKey {
		t.Errorf("Put(\"\") = %v", err)
	}
	if _, err := ns.Delete(ctx, ""); err != rpctypes.ErrEmptyKey {
		t.Errorf("Delete(\"\") = %v", err)
	}
	if _, err := ns.Txn(ctx).Then(client.OpPut("", "v")).Commit(); err != rpctypes.ErrEmptyKey {
		t.Errorf("txn with an empty key = %v", err)
	}
	if _, err := ns.Txn(ctx).If(client.Compare(client.Value(""), "=", "v")).Commit(); !errors.Is(err, rpctypes.ErrEmptyKey) {
		t.Errorf("txn with an empty compare key = %v", err)
	}
	if _, err := ns.Txn(ctx).If(client.Compare(client.Value("k"), "~", "v")).Commit(); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("txn with a bad operator = %v", err)
	}
	if _, err := ns.Get(ctx, "k", client.WithLimit(-1)); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("negative limit = %v", err)
	}
	if _, err := ns.Get(ctx, "k", client.WithPrefix(), client.WithFromKey()); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("prefix and from-key = %v", err)
	}
	if keys := rawKeys(t, p.ref); len(keys) != 0 {
		t.Fatalf("bad input wrote %q", keys)
	}
}
