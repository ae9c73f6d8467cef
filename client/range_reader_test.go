package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// readAll reads r to its end with Next, closing it.
func readAll(r client.RangeReader) ([]*mvccpb.KeyValue, error) {
	return drain(r, r.Next)
}

// readAllEncoded reads r to its end with NextEncoded, closing it.
func readAllEncoded(r client.RangeReader) ([]*mvccpb.KeyValue, error) {
	return drain(r, func() (*mvccpb.KeyValue, error) {
		b, err := r.NextEncoded()
		if err != nil {
			return nil, err
		}
		kv := new(mvccpb.KeyValue)
		return kv, proto.Unmarshal(b, kv)
	})
}

func drain(r client.RangeReader, next func() (*mvccpb.KeyValue, error)) ([]*mvccpb.KeyValue, error) {
	defer r.Close()
	var out []*mvccpb.KeyValue
	for {
		kv, err := next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, kv)
	}
}

// sameKVs reports how got differs from want, or "".
func sameKVs(got, want []*mvccpb.KeyValue) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d key-values, want %d", len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			return fmt.Sprintf("key-value %d = %v, want %v", i, got[i], want[i])
		}
	}
	return ""
}

// TestReadRangeMatchesGet reads ranges of many parts (values of varied
// sizes, so parts end anywhere) with ReadRange and with Get, under every
// range option a reader accepts: the key-values must be the same. Revision
// filters, and every range on a server without streamed ranges
// (etcdtest.ExternalEnv naming etcd 3.5 or 3.6), are read in pages.
func TestReadRangeMatchesGet(t *testing.T) {
	cl := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := coreCtx(t)
	const n = 1500
	for i := 0; i < n; i += 100 {
		ops := make([]client.Op, 0, 100)
		for j := i; j < i+100; j++ {
			ops = append(ops, client.OpPut(fmt.Sprintf("r/%05d", j), strings.Repeat("v", j%7*1000+j%13)))
		}
		if _, err := c.Txn(ctx).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	mid, err := c.Put(ctx, "r/00000", "changed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "s", "outside"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  string
		opts []client.OpOption
	}{
		{"prefix", "r/", []client.OpOption{client.WithPrefix()}},
		{"one key", "r/00042", nil},
		{"absent key", "r/x", nil},
		{"empty prefix", "q/", []client.OpOption{client.WithPrefix()}},
		{"range", "r/00100", []client.OpOption{client.WithRange("r/01200")}},
		{"from key", "r/01400", []client.OpOption{client.WithFromKey()}},
		{"whole space", "\x00", []client.OpOption{client.WithFromKey()}},
		{"whole space from the empty key", "", []client.OpOption{client.WithFromKey()}},
		{"whole space as the empty prefix", "", []client.OpOption{client.WithPrefix(), client.WithPageSize(333)}},
		{"small pages", "r/", []client.OpOption{client.WithPrefix(), client.WithPageSize(7), client.WithLimit(50)}},
		{"mod revision filter", "r/", []client.OpOption{client.WithPrefix(), client.WithMinModRev(mid.Header.Revision), client.WithPageSize(2)}},
		{"create revision filters", "r/", []client.OpOption{client.WithPrefix(), client.WithMinCreateRev(3), client.WithMaxCreateRev(8), client.WithLimit(300)}},
		{"key order", "r/", []client.OpOption{client.WithPrefix(), client.WithSort(client.SortByKey, client.SortAscend), client.WithPageSize(100)}},
		{"limit", "r/", []client.OpOption{client.WithPrefix(), client.WithLimit(777)}},
		{"keys only", "r/", []client.OpOption{client.WithPrefix(), client.WithKeysOnly()}},
		{"serializable", "r/", []client.OpOption{client.WithPrefix(), client.WithSerializable()}},
		{"old revision", "r/", []client.OpOption{client.WithPrefix(), client.WithRev(mid.Header.Revision - 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := c.Get(ctx, tc.key, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.ReadRange(ctx, tc.key, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if r.Buffered() != (len(want.Kvs) > 0) {
				t.Errorf("Buffered() = %v after opening a range of %d keys", r.Buffered(), len(want.Kvs))
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameKVs(got, want.Kvs); d != "" {
				t.Error(d)
			}
			if _, err := r.Next(); err == nil || err == io.EOF {
				t.Errorf("Next after Close = %v, want an error", err)
			}
			r, err = c.ReadRange(ctx, tc.key, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err = readAllEncoded(r)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameKVs(got, want.Kvs); d != "" {
				t.Errorf("NextEncoded: %s", d)
			}
		})
	}
	if got, _ := c.Get(ctx, "r/", client.WithPrefix(), client.WithCountOnly()); got.Count != n {
		t.Fatalf("seeded %d keys, want %d", got.Count, n)
	}

	// A namespaced KV strips its prefix, as its Get does.
	ns := namespace.NewKV(c.KV, "r/")
	want, err := ns.Get(ctx, "01", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	r, err := ns.(client.RangeStreamer).ReadRange(ctx, "01", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameKVs(got, want.Kvs); d != "" || len(got) != 500 {
		t.Errorf("namespaced: %s (%d keys)", d, len(got))
	}
	r, err = ns.(client.RangeStreamer).ReadRange(ctx, "01", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	got, err = readAllEncoded(r)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameKVs(got, want.Kvs); d != "" || len(got) != 500 {
		t.Errorf("namespaced NextEncoded: %s (%d keys)", d, len(got))
	}
}

// TestReadRangeErrors checks what a stream refuses, and that it refuses
// when opened.
func TestReadRangeErrors(t *testing.T) {
	cl := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := coreCtx(t)
	var last int64
	for i := range 5 {
		r, err := c.Put(ctx, "k", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		last = r.Header.Revision
	}
	if _, err := c.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	var nilCtx context.Context
	for _, tc := range []struct {
		name string
		open func() (client.RangeReader, error)
		want func(error) bool
	}{
		{"compacted", func() (client.RangeReader, error) { return c.ReadRange(ctx, "k", client.WithRev(last-2)) },
			func(err error) bool { return errors.Is(err, rpctypes.ErrCompacted) }},
		{"sort", func() (client.RangeReader, error) {
			return c.ReadRange(ctx, "k", client.WithPrefix(), client.WithSort(client.SortByKey, client.SortDescend))
		}, func(err error) bool { return status.Code(err) == codes.Unimplemented }},
		{"nil context", func() (client.RangeReader, error) { return c.ReadRange(nilCtx, "k") },
			func(err error) bool { return errors.Is(err, client.ErrInvalidArgument) }},
		{"bad option", func() (client.RangeReader, error) { return c.ReadRange(ctx, "k", client.WithLimit(-1)) },
			func(err error) bool { return errors.Is(err, client.ErrInvalidArgument) }},
		{"bad page size", func() (client.RangeReader, error) { return c.ReadRange(ctx, "k", client.WithPageSize(0)) },
			func(err error) bool { return errors.Is(err, client.ErrInvalidArgument) }},
		{"namespace nil context", func() (client.RangeReader, error) {
			return namespace.NewKV(c.KV, "p/").(client.RangeStreamer).ReadRange(nilCtx, "k")
		}, func(err error) bool { return errors.Is(err, client.ErrInvalidArgument) }},
	} {
		r, err := tc.open()
		if err == nil {
			r.Close()
			t.Errorf("%s: opened", tc.name)
			continue
		}
		if !tc.want(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestReadRangeCut ends streams halfway (cancel, Close, closing the client):
// a reader must then fail, never end as if the range were complete, and
// leave no goroutine behind (TestMain checks).
func TestReadRangeCut(t *testing.T) {
	cl := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := coreCtx(t)
	const n = 64
	val := strings.Repeat("v", 64*1024)
	for i := range n {
		if _, err := c.Put(ctx, fmt.Sprintf("s/%03d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	// The test needs parts: count the key-values the first part holds (a
	// page of 10 on a server without streamed ranges).
	r, err := c.ReadRange(ctx, "s/", client.WithPrefix(), client.WithPageSize(10))
	if err != nil {
		t.Fatal(err)
	}
	first := 0
	for r.Buffered() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		first++
	}
	r.Close()
	if first == 0 || first >= n {
		t.Fatalf("the first part holds %d of %d keys; the test needs several parts", first, n)
	}

	cut := func(name string, stop func(), r client.RangeReader) {
		t.Helper()
		read := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				t.Errorf("%s: the range ended cleanly after %d of %d keys", name, read, n)
				return
			}
			if err != nil {
				if read == n {
					t.Errorf("%s: error after the whole range: %v", name, err)
				}
				t.Logf("%s: %d keys, then %v", name, read, err)
				return
			}
			read++
			if read == first {
				stop()
			}
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	r, err = c.ReadRange(sctx, "s/", client.WithPrefix(), client.WithPageSize(10))
	if err != nil {
		t.Fatal(err)
	}
	cut("cancel", cancel, r)
	if _, err := r.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v, want context.Canceled", err)
	}

	r, err = c.ReadRange(ctx, "s/", client.WithPrefix(), client.WithPageSize(10))
	if err != nil {
		t.Fatal(err)
	}
	cut("close", func() { r.Close() }, r)

	c2, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err = c2.ReadRange(ctx, "s/", client.WithPrefix(), client.WithPageSize(10))
	if err != nil {
		t.Fatal(err)
	}
	abandoned, err := c2.ReadRange(ctx, "s/", client.WithPrefix(), client.WithPageSize(10))
	if err != nil {
		t.Fatal(err)
	}
	_ = abandoned // never read nor closed: closing the client must end it
	cut("client close", func() { c2.Close() }, r)
}
