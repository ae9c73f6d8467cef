package client_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"
)

// txnWant checks which branch ran and how many responses it gave.
func txnWant(succeeded bool, nresp int) func(*testing.T, proto.Message) {
	return func(t *testing.T, m proto.Message) {
		t.Helper()
		r := m.(*pb.TxnResponse)
		if r.Succeeded != succeeded || len(r.Responses) != nresp {
			t.Errorf("succeeded=%v with %d responses, want %v with %d", r.Succeeded, len(r.Responses), succeeded, nresp)
		}
	}
}

// txnNested walks into the nested txn response at path (indexes of
// responses) and checks its branch and size.
func txnNested(succeeded bool, nresp int, path ...int) func(*testing.T, proto.Message) {
	return func(t *testing.T, m proto.Message) {
		t.Helper()
		r := m.(*pb.TxnResponse)
		for _, i := range path {
			if i >= len(r.Responses) || r.Responses[i].GetResponseTxn() == nil {
				t.Fatalf("no nested txn response at %v in %v", path, m)
			}
			r = r.Responses[i].GetResponseTxn()
		}
		if r.Succeeded != succeeded || len(r.Responses) != nresp {
			t.Errorf("nested txn at %v: succeeded=%v with %d responses, want %v with %d", path, r.Succeeded, len(r.Responses), succeeded, nresp)
		}
	}
}

func txnAll(checks ...func(*testing.T, proto.Message)) func(*testing.T, proto.Message) {
	return func(t *testing.T, m proto.Message) {
		t.Helper()
		for _, c := range checks {
			c(t, m)
		}
	}
}

func TestTxnMatchesOfficial(t *testing.T) {
	tw := startCoreTwin(t)
	var revs kvSeedRevs
	tw.seed(t, kvSeed(&revs))

	holds := dCmp("value", "a/1", "=", "v1-3")
	fails := dCmp("version", "a/1", "<", 3)
	puts := func(prefix string, n int) []dualOp {
		ops := make([]dualOp, n)
		for i := range ops {
			ops[i] = dPut(fmt.Sprintf("%s%03d", prefix, i), "v")
		}
		return ops
	}
	gets := func(n int) []dualOp {
		ops := make([]dualOp, n)
		for i := range ops {
			ops[i] = dGet(fmt.Sprintf("a/%d", i))
		}
		return ops
	}
	cmps := func(n int) []dualCmp {
		out := make([]dualCmp, n)
		for i := range out {
			out[i] = dCmp("version", fmt.Sprintf("a/%d", i), ">", -1)
		}
		return out
	}
	big := strings.Repeat("y", 1600*1024)

	cases := []dualCase{
		{op: dTxn(nil, nil, nil), check: txnWant(true, 0)},
		{op: dTxn([]dualCmp{holds}, []dualOp{dGet("a/1"), dGet("b/", oPrefix)}, []dualOp{dGet("c")}), check: txnWant(true, 2)},
		{op: dTxn([]dualCmp{fails}, []dualOp{dGet("a/1"), dGet("b/", oPrefix)}, []dualOp{dGet("c")}), check: txnWant(false, 1)},
		{op: dTxn([]dualCmp{holds, fails}, nil, []dualOp{dGet("c", oKeysOnly), dGet("", oPrefix, oCountOnly)}), check: txnWant(false, 2)},
		{op: dTxn(nil, []dualOp{dGet("a/1", oRev(revs.end+10))}, nil), err: rpctypes.ErrFutureRev},
		// Writes: our client to A, clientv3 to B.
		{op: dTxn([]dualCmp{dCmp("version", "t/1", "=", 0)},
			[]dualOp{dPut("t/1", "one", oPrevKV), dPut("t/2", "two", oLease(kvLeaseSpare)), dDel("c", oPrevKV), dGet("t/", oPrefix)},
			[]dualOp{dGet("t/1")}), check: txnWant(true, 4)},
		{op: dTxn([]dualCmp{dCmp("version", "t/1", "=", 0)},
			[]dualOp{dPut("t/1", "again")},
			[]dualOp{dPut("t/1", "other", oPrevKV), dGet("t/1")}), check: txnWant(false, 2)},
		{op: dTxn([]dualCmp{holds}, []dualOp{dPut("t/3", "x"), dGet("t/3")}, nil), check: txnAll(txnWant(true, 2), func(t *testing.T, m proto.Message) {
			kvs := m.(*pb.TxnResponse).Responses[1].GetResponseRange().Kvs
			if len(kvs) != 1 || string(kvs[0].Value) != "x" {
				t.Errorf("a get after a put in the same txn reads %v", kvs)
			}
		})},
		{op: dTxn([]dualCmp{holds}, []dualOp{dDel("t/", oPrefix, oPrevKV)}, nil), doOnly: true, check: txnWant(true, 1)},
		// Nested txns, in Then and Else, two levels deep. The server decides
		// every branch before it writes: the innermost compare does not see
		// the put of n/1 before it.
		{op: dTxn([]dualCmp{holds},
			[]dualOp{dPut("n/0", "0"), dTxn([]dualCmp{fails},
				[]dualOp{dPut("n/never", "x")},
				[]dualOp{dPut("n/1", "1", oPrevKV), dTxn([]dualCmp{dCmp("value", "n/1", "=", "1")},
					[]dualOp{dPut("n/2", "2"), dGet("n/", oPrefix)},
					[]dualOp{dPut("n/never", "y")})})},
			nil),
			check: txnAll(txnWant(true, 2), txnNested(false, 2, 1), txnNested(false, 1, 1, 1))},
		{op: dTxn([]dualCmp{fails}, nil,
			[]dualOp{dTxn([]dualCmp{dCmp("create", "n/0", ">", 0)},
				[]dualOp{dDel("n/0", oPrevKV), dTxn(nil, []dualOp{dGet("n/", oPrefix, oCountOnly)}, nil)},
				nil)}),
			check: txnAll(txnWant(false, 1), txnNested(true, 2, 0), txnNested(true, 1, 0, 1))},
		{op: dTxn([]dualCmp{holds}, []dualOp{dTxn([]dualCmp{holds}, []dualOp{dGet("n/", oPrefix)}, nil)}, nil),
			doOnly: true, check: txnAll(txnWant(true, 1), txnNested(true, 1, 0))},
		// Server limits.
		{op: dTxn(nil, puts("m/", 128), nil), check: txnWant(true, 128)},
		{op: dTxn(nil, puts("m/", 129), nil), err: rpctypes.ErrTooManyOps},
		{op: dTxn(nil, nil, gets(129)), err: rpctypes.ErrTooManyOps},
		{op: dTxn(cmps(129), nil, nil), err: rpctypes.ErrTooManyOps},
		{op: dTxn(nil, []dualOp{dPut("dup", "1"), dPut("dup", "2")}, nil), err: rpctypes.ErrDuplicateKey},
		{op: dTxn(nil, []dualOp{dPut("dup", "1"), dDel("dup")}, nil), err: rpctypes.ErrDuplicateKey},
		{op: dTxn(nil, []dualOp{dDel("dup/", oPrefix), dPut("dup/1", "1")}, nil), err: rpctypes.ErrDuplicateKey},
		{op: dTxn(nil, []dualOp{dPut("dup", "1"), dTxn(nil, []dualOp{dPut("dup", "2")}, nil)}, nil), err: rpctypes.ErrDuplicateKey},
		{op: dTxn([]dualCmp{holds}, []dualOp{dPut("dup", "then")}, []dualOp{dPut("dup", "else")}), check: txnWant(true, 1)},
		{op: dTxn(nil, []dualOp{dPut("w/big", big)}, nil), err: rpctypes.ErrRequestTooLarge},
		{op: dTxn(nil, []dualOp{dPut("w/lease", "x", oLease(0x9999))}, nil), err: rpctypes.ErrLeaseNotFound},
		{op: dTxn(nil, []dualOp{dPut("w/iv", "", oIgnoreValue)}, nil), err: rpctypes.ErrKeyNotFound},
		{op: dTxn(nil, nil, nil), doOnly: true, check: txnWant(true, 0)},
		{op: dGet("", oPrefix)},
	}
	for _, c := range cases {
		tw.run(t, c)
	}
	tw.checkLockstep(t)
}

// TestTxnOpAccessors checks that an OpTxn gives back what it was built
// from, as clientv3's does.
func TestTxnOpAccessors(t *testing.T) {
	cmp := client.Compare(client.Value("k"), "=", "v")
	inner := client.OpTxn(nil, []client.Op{client.OpPut("x", "1")}, nil)
	op := client.OpTxn([]client.Cmp{cmp}, []client.Op{client.OpGet("k")}, []client.Op{inner})
	if !op.IsTxn() || op.IsGet() || op.IsPut() || op.IsDelete() {
		t.Errorf("OpTxn kind accessors wrong: %+v", op)
	}
	c, th, el := op.Txn()
	if len(c) != 1 || len(th) != 1 || len(el) != 1 || !el[0].IsTxn() {
		t.Errorf("Txn() = %d compares, %d then, %d else", len(c), len(th), len(el))
	}
	if got := c[0].GetCompare(); string(got.Key) != "k" || got.Result != pb.Compare_EQUAL || string(got.GetValue()) != "v" {
		t.Errorf("compare = %v", got)
	}
}
