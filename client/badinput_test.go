package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// noPanic runs fn and turns a panic into a test failure.
func noPanic(t *testing.T, fn func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("panic: %v", r)
			err = fmt.Errorf("panicked: %v", r)
		}
	}()
	return fn()
}

// TestBadInput sends every kind of bad input a caller can build to a live
// server and checks that each is refused before it is sent, with an error
// of the right kind that names what was wrong, and never with a panic.
func TestBadInput(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := coreCtx(t)
	var nilCtx context.Context // a nil context, spelled so that vet lets it through

	commit := func(tx client.Txn) func() error {
		return func() error { _, err := tx.Commit(); return err }
	}
	get := func(key string, opts ...client.OpOption) func() error {
		return func() error { _, err := c.Get(ctx, key, opts...); return err }
	}
	put := func(key string, opts ...client.OpOption) func() error {
		return func() error { _, err := c.Put(ctx, key, "v", opts...); return err }
	}
	del := func(key string, opts ...client.OpOption) func() error {
		return func() error { _, err := c.Delete(ctx, key, opts...); return err }
	}
	do := func(op client.Op) func() error {
		return func() error { _, err := c.Do(ctx, op); return err }
	}
	stream := func(cx context.Context, key string, opts ...client.OpOption) func() error {
		return func() error {
			ch, err := c.GetStream(cx, key, opts...)
			if err == nil {
				_, err = client.GetStreamToGetResponse(ch)
			}
			return err
		}
	}
	ok := client.Compare(client.Value("a"), "=", "x")

	cases := []struct {
		name string
		fn   func() error
		want error // errors.Is must hold
		same bool  // err == want must hold too
		says []string
	}{
		{"put empty key", put(""), rpctypes.ErrEmptyKey, true, []string{"key is not provided"}},
		{"get empty key", get(""), rpctypes.ErrEmptyKey, true, nil},
		{"delete empty key", del(""), rpctypes.ErrEmptyKey, true, nil},
		{"stream empty key", stream(ctx, ""), rpctypes.ErrEmptyKey, true, nil},
		{"do get empty key", do(client.OpGet("")), rpctypes.ErrEmptyKey, true, nil},
		{"compare empty key", commit(c.Txn(ctx).If(client.Compare(client.Value(""), "=", "x"))), rpctypes.ErrEmptyKey, false, []string{"compare", "key is not provided"}},
		{"compare empty key with range", commit(c.Txn(ctx).If(client.Compare(client.Version(""), ">", 0).WithRange("z"))), rpctypes.ErrEmptyKey, false, []string{"compare"}},
		{"txn then empty key", commit(c.Txn(ctx).Then(client.OpPut("", "v"))), rpctypes.ErrEmptyKey, true, nil},
		{"nested txn empty key", commit(c.Txn(ctx).Else(client.OpTxn(nil, []client.Op{client.OpDelete("")}, nil))), rpctypes.ErrEmptyKey, true, nil},

		{"range end with from key", get("a", client.WithRange("z"), client.WithFromKey()), client.ErrInvalidArgument, false, []string{"WithFromKey", "WithRange", `"a"`}},
		{"from key with prefix", get("a", client.WithFromKey(), client.WithPrefix()), client.ErrInvalidArgument, false, []string{"WithFromKey", "WithPrefix"}},
		{"prefix with range", get("a", client.WithPrefix(), client.WithRange("z")), client.ErrInvalidArgument, false, []string{"WithPrefix", "WithRange"}},
		{"delete prefix with range", del("a", client.WithRange("z"), client.WithPrefix()), client.ErrInvalidArgument, false, []string{"WithPrefix", "WithRange"}},
		{"negative limit", get("a", client.WithLimit(-1)), client.ErrInvalidArgument, false, []string{"WithLimit(-1)"}},
		{"negative revision", get("a", client.WithRev(-3)), client.ErrInvalidArgument, false, []string{"WithRev(-3)"}},
		{"unknown sort target", get("a", client.WithPrefix(), client.WithSort(client.SortTarget(9), client.SortDescend)), rpctypes.ErrInvalidSortOption, true, []string{"sort"}},
		{"unknown sort order", get("a", client.WithPrefix(), client.WithSort(client.SortByValue, client.SortOrder(-1))), rpctypes.ErrInvalidSortOption, true, []string{"sort"}},
		{"stream negative limit", stream(ctx, "a", client.WithLimit(-2)), client.ErrInvalidArgument, false, []string{"WithLimit(-2)"}},
		{"bad option inside txn", commit(c.Txn(ctx).Then(client.OpGet("a", client.WithLimit(-1)))), client.ErrInvalidArgument, false, []string{"WithLimit(-1)"}},
		{"put with prefix", put("a", client.WithPrefix()), client.ErrInvalidArgument, false, []string{`put "a"`, "WithPrefix"}},
		{"put empty key with prefix", put("", client.WithPrefix()), client.ErrInvalidArgument, false, []string{"put", "range"}},
		{"put with range", put("a", client.WithRange("b")), client.ErrInvalidArgument, false, []string{"range"}},
		{"put with limit and rev", put("a", client.WithLimit(1), client.WithRev(2)), client.ErrInvalidArgument, false, []string{"WithLimit", "WithRev"}},
		{"put with sort", put("a", client.WithSort(client.SortByValue, client.SortDescend)), client.ErrInvalidArgument, false, []string{"WithSort"}},
		{"put with serializable", put("a", client.WithSerializable()), client.ErrInvalidArgument, false, []string{"WithSerializable"}},
		{"put with count only", put("a", client.WithCountOnly()), client.ErrInvalidArgument, false, []string{"WithCountOnly"}},
		{"put with mod rev filter", put("a", client.WithMinModRev(1)), client.ErrInvalidArgument, false, []string{"ModRev"}},
		{"delete with lease", del("a", client.WithLease(5)), client.ErrInvalidArgument, false, []string{`delete "a"`, "WithLease"}},
		{"delete with rev", del("a", client.WithRev(5)), client.ErrInvalidArgument, false, []string{"WithRev"}},
		{"delete with limit", del("a", client.WithPrefix(), client.WithLimit(5)), client.ErrInvalidArgument, false, []string{"WithLimit"}},
		{"delete with create rev filter", del("a", client.WithMaxCreateRev(5)), client.ErrInvalidArgument, false, []string{"CreateRev"}},
		{"delete with ignore value", del("a", client.WithIgnoreValue()), client.ErrInvalidArgument, false, []string{"WithIgnoreValue"}},
		{"op without a kind", do(client.Op{}), client.ErrInvalidArgument, false, []string{"OpGet"}},
		{"new op without a kind", do(*client.NewOp()), client.ErrInvalidArgument, false, []string{"OpGet"}},
		{"compact zero", func() error { _, err := c.Compact(ctx, 0); return err }, client.ErrInvalidArgument, false, []string{"Compact(0)"}},
		{"compact negative", func() error { _, err := c.Compact(ctx, -4); return err }, client.ErrInvalidArgument, false, []string{"Compact(-4)"}},

		{"nil context put", func() error { _, err := c.Put(nilCtx, "a", "v"); return err }, client.ErrInvalidArgument, false, []string{"nil context", `put "a"`}},
		{"nil context get", func() error { _, err := c.Get(nilCtx, "a"); return err }, client.ErrInvalidArgument, false, []string{"nil context", `get "a"`}},
		{"nil context delete", func() error { _, err := c.Delete(nilCtx, "a"); return err }, client.ErrInvalidArgument, false, []string{"nil context", `delete "a"`}},
		{"nil context compact", func() error { _, err := c.Compact(nilCtx, 1); return err }, client.ErrInvalidArgument, false, []string{"nil context", "Compact"}},
		{"nil context stream", stream(nilCtx, "a"), client.ErrInvalidArgument, false, []string{"nil context", "GetStream"}},
		{"nil context do", func() error { _, err := c.Do(nilCtx, client.OpGet("a")); return err }, client.ErrInvalidArgument, false, []string{"nil context"}},
		{"nil context txn", commit(c.Txn(nilCtx).If(ok)), client.ErrInvalidArgument, false, []string{"nil context", "txn"}},
		{"nil context kv api", func() error { _, err := client.NewKV(c).Get(nilCtx, "a"); return err }, client.ErrInvalidArgument, false, []string{"nil context"}},

		{"if after then", commit(c.Txn(ctx).Then(client.OpGet("a")).If(ok)), client.ErrInvalidArgument, false, []string{"If called after Then"}},
		{"if after else", commit(c.Txn(ctx).Else(client.OpGet("a")).If(ok)), client.ErrInvalidArgument, false, []string{"If called after Else"}},
		{"if twice", commit(c.Txn(ctx).If(ok).If(ok)), client.ErrInvalidArgument, false, []string{"If called twice"}},
		{"then twice", commit(c.Txn(ctx).Then(client.OpGet("a")).Then(client.OpGet("b"))), client.ErrInvalidArgument, false, []string{"Then called twice"}},
		{"then after else", commit(c.Txn(ctx).Else(client.OpGet("a")).Then(client.OpGet("b"))), client.ErrInvalidArgument, false, []string{"Then called after Else"}},
		{"else twice", commit(c.Txn(ctx).Else().Else()), client.ErrInvalidArgument, false, []string{"Else called twice"}},
		{"unknown operator", commit(c.Txn(ctx).If(client.Compare(client.Value("a"), "<=", "x"))), client.ErrInvalidArgument, false, []string{`"<="`, `"a"`}},
		{"empty operator", commit(c.Txn(ctx).If(client.Compare(client.Version("a"), "", 1))), client.ErrInvalidArgument, false, []string{"operator"}},
		{"value compared with an int", commit(c.Txn(ctx).If(client.Compare(client.Value("a"), "=", 3))), client.ErrInvalidArgument, false, []string{"want a string", "int"}},
		{"version compared with a string", commit(c.Txn(ctx).If(client.Compare(client.Version("a"), "=", "3"))), client.ErrInvalidArgument, false, []string{"want an integer", "string"}},
		{"lease compared with a float", commit(c.Txn(ctx).If(client.Compare(client.LeaseValue("a"), "=", 1.5))), client.ErrInvalidArgument, false, []string{"want an integer", "float64"}},
		{"mod compared with nil", commit(c.Txn(ctx).If(client.Compare(client.ModRevision("a"), ">", nil))), client.ErrInvalidArgument, false, []string{"want an integer"}},
		{"bad compare in nested txn", commit(c.Txn(ctx).Then(client.OpTxn([]client.Cmp{client.Compare(client.Value("a"), "~", "x")}, nil, nil))), client.ErrInvalidArgument, false, []string{`"~"`}},
		{"bad compare through do", do(client.OpTxn([]client.Cmp{client.Compare(client.CreateRevision("a"), "=", "x")}, nil, nil)), client.ErrInvalidArgument, false, []string{"want an integer"}},
	}
	before := coreRevOurs(ctx, t, c)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := noPanic(t, tc.fn)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.same && err != tc.want {
				t.Errorf("err = %#v, want exactly %#v", err, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
			want := client.CodeInvalidArgument
			if tc.want == rpctypes.ErrEmptyKey {
				want = client.CodeEmptyKey
			}
			if got := client.Classify(err); got.Code != want || got.Retryable {
				t.Errorf("Classify(%v) = %+v, want %s, not retryable", err, got, want)
			}
		})
	}
	if after := coreRevOurs(ctx, t, c); after != before {
		t.Errorf("the revision went from %d to %d: a bad request was sent and applied", before, after)
	}
}

func coreRevOurs(ctx context.Context, t *testing.T, c *client.Client) int64 {
	t.Helper()
	r, err := c.Get(ctx, "revision-probe")
	if err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

// TestBadEndpoints checks that New refuses endpoints it cannot use, naming
// the endpoint, before it starts anything.
func TestBadEndpoints(t *testing.T) {
	cases := []struct {
		eps  []string
		want error
		says []string
	}{
		{nil, client.ErrNoAvailableEndpoints, nil},
		{[]string{}, client.ErrNoAvailableEndpoints, nil},
		{[]string{""}, client.ErrInvalidArgument, []string{`""`, "empty"}},
		{[]string{"  "}, client.ErrInvalidArgument, []string{"empty"}},
		{[]string{"localhost"}, client.ErrInvalidArgument, []string{`"localhost"`, "port"}},
		{[]string{"127.0.0.1"}, client.ErrInvalidArgument, []string{`"127.0.0.1"`}},
		{[]string{"localhost:"}, client.ErrInvalidArgument, []string{`"localhost:"`, "no port"}},
		{[]string{"http://localhost"}, client.ErrInvalidArgument, []string{`"http://localhost"`, "port"}},
		{[]string{"http://[::1"}, client.ErrInvalidArgument, []string{`"http://[::1"`, "not a URL"}},
		{[]string{"http://host:abc"}, client.ErrInvalidArgument, []string{`"http://host:abc"`}},
		{[]string{"host:abc"}, client.ErrInvalidArgument, []string{`"host:abc"`, "not a number"}},
		{[]string{"ftp://host:21"}, client.ErrInvalidArgument, []string{`"ftp://host:21"`, "unknown scheme", "ftp"}},
		{[]string{"dns:///host:21"}, client.ErrInvalidArgument, []string{"unknown scheme"}},
		{[]string{"http://host:1/path"}, client.ErrInvalidArgument, []string{`"http://host:1/path"`}},
		{[]string{"http://user@host:1"}, client.ErrInvalidArgument, []string{"user@host"}},
		{[]string{"unix://"}, client.ErrInvalidArgument, []string{"socket path"}},
		{[]string{"unixs:"}, client.ErrInvalidArgument, []string{"socket path"}},
		{[]string{"127.0.0.1:2379", "bad"}, client.ErrInvalidArgument, []string{`"bad"`}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.eps), func(t *testing.T) {
			var c *client.Client
			err := noPanic(t, func() error {
				var err error
				c, err = client.New(client.Config{Endpoints: tc.eps})
				return err
			})
			if c != nil {
				c.Close()
				t.Fatal("New returned a client")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
		})
	}
	// SetEndpointsErr checks the same way, and keeps the old endpoints.
	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetEndpointsErr("ftp://x:1"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("SetEndpointsErr(ftp) = %v", err)
	}
	if err := c.SetEndpointsErr(); err != client.ErrNoAvailableEndpoints {
		t.Errorf("SetEndpointsErr() = %v", err)
	}
	if got := c.Endpoints(); len(got) != 1 || got[0] != "127.0.0.1:1" {
		t.Errorf("endpoints after refused updates: %q", got)
	}
}
