package client_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/etcdscript/etcdscript/client"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// opView is what the exported accessors of an Op say, in both clients.
type opView struct {
	Key, End, Val                                    string
	Rev, Limit                                       int64
	Serializable, KeysOnly, CountOnly, SortSet       bool
	FromKey, Prefix, PrevKV, SortValid               bool
	Fragment, Progress, Created, FilterPut, FilterDl bool
	MinMod, MaxMod, MinCreate, MaxCreate             int64
	Get, Put, Delete, Txn                            bool
}

func viewOurs(op client.Op) opView {
	return opView{
		string(op.KeyBytes()), string(op.RangeBytes()), string(op.ValueBytes()),
		op.Rev(), op.Limit(),
		op.IsSerializable(), op.IsKeysOnly(), op.IsCountOnly(), op.IsSortSet(),
		op.IsOptsWithFromKey(), op.IsOptsWithPrefix(), op.IsPrevKV(), op.IsSortOptionValid(),
		op.IsFragment(), op.IsProgressNotify(), op.IsCreatedNotify(), op.IsFilterPut(), op.IsFilterDelete(),
		op.MinModRev(), op.MaxModRev(), op.MinCreateRev(), op.MaxCreateRev(),
		op.IsGet(), op.IsPut(), op.IsDelete(), op.IsTxn(),
	}
}

func viewTheirs(op clientv3.Op) opView {
	return opView{
		string(op.KeyBytes()), string(op.RangeBytes()), string(op.ValueBytes()),
		op.Rev(), op.Limit(),
		op.IsSerializable(), op.IsKeysOnly(), op.IsCountOnly(), op.IsSortSet(),
		op.IsOptsWithFromKey(), op.IsOptsWithPrefix(), op.IsPrevKV(), op.IsSortOptionValid(),
		op.IsFragment(), op.IsProgressNotify(), op.IsCreatedNotify(), op.IsFilterPut(), op.IsFilterDelete(),
		op.MinModRev(), op.MaxModRev(), op.MinCreateRev(), op.MaxCreateRev(),
		op.IsGet(), op.IsPut(), op.IsDelete(), op.IsTxn(),
	}
}

var (
	oFragment       = dualOpt1("fragment", client.WithFragment(), clientv3.WithFragment())
	oProgressNotify = dualOpt1("progress", client.WithProgressNotify(), clientv3.WithProgressNotify())
	oCreatedNotify  = dualOpt1("created", client.WithCreatedNotify(), clientv3.WithCreatedNotify())
	oFilterPut      = dualOpt1("filterput", client.WithFilterPut(), clientv3.WithFilterPut())
	oFilterDelete   = dualOpt1("filterdelete", client.WithFilterDelete(), clientv3.WithFilterDelete())
)

// TestOptionAccessorsMatchOfficial builds the same op in both clients, for
// every option, and reads it back through the accessors clientv3 has.
func TestOptionAccessorsMatchOfficial(t *testing.T) {
	cases := []dualOp{
		dGet("k"),
		dGet("k", oPrefix),
		dGet("", oPrefix),
		dGet("\xff\xff", oPrefix),
		dGet("a\xff", oPrefix),
		dGet("k", oRange("z")),
		dGet("k", oFromKey),
		dGet("", oFromKey),
		dGet("k", oRev(7)),
		dGet("k", oLimit(3)),
		dGet("k", oLimit(0)),
		dGet("k", oSerializable),
		dGet("k", oKeysOnly),
		dGet("k", oCountOnly),
		dGet("k", oPrevKV),
		dGet("k", oMinMod(2), oMaxMod(3), oMinCreate(4), oMaxCreate(5)),
		dGet("k", oFirstCreate), dGet("k", oLastCreate), dGet("k", oFirstKey),
		dGet("k", oLastKey), dGet("k", oFirstRev), dGet("k", oLastRev),
		dGet("k", oFragment, oProgressNotify, oCreatedNotify, oFilterPut, oFilterDelete),
		dGet("k", oPrefix, oSort(client.SortByKey, client.SortAscend)),
		dGet("k", oPrefix, oSort(client.SortByValue, client.SortDescend)),
		dGet("k", oPrefix, oSort(client.SortTarget(9), client.SortAscend)),
		dGet("k", oPrefix, oSort(client.SortByKey, client.SortOrder(7))),
		dPut("k", "v"),
		dPut("k", "v", oPrevKV, oLease(5)),
		dPut("k", "", oIgnoreValue, oIgnoreLease),
		dDel("k"),
		dDel("k", oPrefix, oPrevKV),
		dDel("", oFromKey),
		dTxn(nil, []dualOp{dGet("k")}, nil),
	}
	for _, d := range cases {
		t.Run(d.String(), func(t *testing.T) {
			if o, th := viewOurs(d.oursOp()), viewTheirs(d.theirsOp()); o != th {
				t.Errorf("accessors differ:\n ours     %+v\n clientv3 %+v", o, th)
			}
		})
	}
}

func TestOptionPrefixRangeEnd(t *testing.T) {
	for _, p := range []string{"", "a", "abc", "a\xff", "\xff", "\xff\xff", "ab\xff\xff", "a\x00"} {
		if got, want := client.GetPrefixRangeEnd(p), clientv3.GetPrefixRangeEnd(p); got != want {
			t.Errorf("GetPrefixRangeEnd(%q) = %q, clientv3 %q", p, got, want)
		}
	}
}

func TestOptionIsOptsWith(t *testing.T) {
	cases := [][]dualOpt{
		nil,
		{oPrefix},
		{oFromKey},
		{oRange("z")},
		{oLimit(1), oPrefix},
		{oFirstKey},
	}
	for _, opts := range cases {
		d := dGet("k", opts...)
		t.Run(d.String(), func(t *testing.T) {
			if got, want := client.IsOptsWithPrefix(d.oursOpts()), clientv3.IsOptsWithPrefix(d.theirsOpts()); got != want {
				t.Errorf("IsOptsWithPrefix = %v, clientv3 %v", got, want)
			}
			if got, want := client.IsOptsWithFromKey(d.oursOpts()), clientv3.IsOptsWithFromKey(d.theirsOpts()); got != want {
				t.Errorf("IsOptsWithFromKey = %v, clientv3 %v", got, want)
			}
		})
	}
}

func TestOptionSetters(t *testing.T) {
	op := client.OpPut("a", "1", client.WithLease(7))
	op.WithKeyBytes([]byte("b"))
	op.WithValueBytes([]byte("2"))
	if string(op.KeyBytes()) != "b" || string(op.ValueBytes()) != "2" || op.LeaseID() != 7 {
		t.Errorf("after setters: key %q value %q lease %d", op.KeyBytes(), op.ValueBytes(), op.LeaseID())
	}
	g := client.OpGet("a")
	g.WithRangeBytes([]byte("c"))
	if !bytes.Equal(g.RangeBytes(), []byte("c")) {
		t.Errorf("RangeBytes = %q", g.RangeBytes())
	}
	if n := client.NewOp(); n.IsGet() || n.IsPut() || n.IsDelete() || n.IsTxn() || len(n.KeyBytes()) != 0 {
		t.Errorf("NewOp() = %+v, want an empty op", fmt.Sprint(viewOurs(*n)))
	}
	if w := client.OpWatch("k", client.WithPrefix(), client.WithRev(3), client.WithPrevKV()); string(w.RangeBytes()) != "l" || w.Rev() != 3 || !w.IsPrevKV() {
		t.Errorf("OpWatch = %+v", viewOurs(w))
	}
}

// TestOpWithoutOptionsStaysOffHeap checks that an Op built without options
// costs only the copies of its key and value: the Op itself (about 300
// bytes) is not allocated on every Get and Put, which made the collector
// run that much more often under load.
func TestOpWithoutOptionsStaysOffHeap(t *testing.T) {
	var sink client.Op
	for _, c := range []struct {
		name  string
		build func() client.Op
		want  float64
	}{
		{"OpGet", func() client.Op { return client.OpGet("some/key") }, 1},
		{"OpDelete", func() client.Op { return client.OpDelete("some/key") }, 1},
		{"OpPut", func() client.Op { return client.OpPut("some/key", "a value") }, 2},
		{"OpWatch", func() client.Op { return client.OpWatch("some/key") }, 1},
	} {
		if got := testing.AllocsPerRun(100, func() { sink = c.build() }); got != c.want {
			t.Errorf("%s: %v allocations, want %v (the key and value copies)", c.name, got, c.want)
		}
	}
	// With options the Op is still right.
	if op := client.OpGet("k", client.WithPrefix(), client.WithRev(5)); string(op.RangeBytes()) != "l" || op.Rev() != 5 {
		t.Errorf("OpGet with options: range end %q, rev %d", op.RangeBytes(), op.Rev())
	}
	_ = sink
}
