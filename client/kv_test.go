package client_test

// The tests of this file hold our client against the official clientv3: the
// same request must get the same answer. Reads go through both clients to
// the same server. Writes cannot: the first write changes what the second
// sees. So a "twin" runs two servers, A and B, seeded with the same requests
// (lease ids chosen, not generated), and every write goes through our client
// to A and through clientv3 to B. Both servers stay in lockstep, with the
// same revisions and lease ids, for as long as both clients send the same
// requests; the end of each test compares the whole key space of A and B.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"github.com/google/go-cmp/cmp"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
)

// Lease ids granted by kvSeed on both servers of a twin.
const (
	kvLeaseKeep  = 0x1111 // long TTL, keys attached
	kvLeaseGone  = 0x2222 // revoked during the seed: its keys' deletes are history
	kvLeaseSpare = 0x3333 // long TTL, no keys: for puts in the cases
)

// coreCtx returns a context that ends with the test, bounded so that a hung
// call fails the test instead of the whole run.
func coreCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// coreOurs connects our client to endpoints and closes it with the test.
func coreOurs(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New(%v): %v", cfg.Endpoints, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close our client: %v", err)
		}
	})
	return c
}

// coreTheirs connects the official client and closes it with the test.
func coreTheirs(t testing.TB, cfg clientv3.Config) *clientv3.Client {
	t.Helper()
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	cfg.Logger = zap.NewNop()
	c, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("clientv3.New(%v): %v", cfg.Endpoints, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// coreTwin is two servers in lockstep and the clients on them.
type coreTwin struct {
	a, b    etcdtest.Server
	ours    *client.Client   // on A
	theirsA *clientv3.Client // on A: reads, and the seed of A
	theirsB *clientv3.Client // on B: writes, and the seed of B
}

func startCoreTwin(t *testing.T) *coreTwin {
	t.Helper()
	tw := &coreTwin{a: etcdtest.StartServerT(t, etcdtest.ServerOptions{}), b: etcdtest.StartServerT(t, etcdtest.ServerOptions{})}
	tw.ours = coreOurs(t, client.Config{Endpoints: tw.a.Endpoints()})
	tw.theirsA = coreTheirs(t, clientv3.Config{Endpoints: tw.a.Endpoints()})
	tw.theirsB = coreTheirs(t, clientv3.Config{Endpoints: tw.b.Endpoints()})
	return tw
}

// seed runs fn on A and then on B with the official client, and checks that
// both end at the same revision.
func (tw *coreTwin) seed(t *testing.T, fn func(c *clientv3.Client) error) {
	t.Helper()
	ctx := coreCtx(t)
	for _, c := range []*clientv3.Client{tw.theirsA, tw.theirsB} {
		if err := fn(c); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	ra, rb := coreRev(ctx, t, tw.theirsA), coreRev(ctx, t, tw.theirsB)
	if ra != rb {
		t.Fatalf("seed left A at revision %d and B at %d", ra, rb)
	}
}

// checkLockstep compares the whole key space of A and B: both clients
// applied the same writes with the same effects.
func (tw *coreTwin) checkLockstep(t *testing.T) {
	t.Helper()
	ctx := coreCtx(t)
	ra, err := tw.theirsA.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := tw.theirsB.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if d := coreDiff((*pb.RangeResponse)(ra), (*pb.RangeResponse)(rb)); d != "" {
		t.Errorf("after our writes server A differs from server B after clientv3's (-A +B):\n%s", d)
	}
}

func coreRev(ctx context.Context, t testing.TB, c *clientv3.Client) int64 {
	t.Helper()
	r, err := c.Get(ctx, "revision-probe")
	if err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

// coreGrant creates a lease with a chosen id, which the official client's
// Grant cannot do, so that both servers of a twin hold the same ids.
func coreGrant(ctx context.Context, c *clientv3.Client, id, ttl int64) error {
	_, err := pb.NewLeaseClient(c.ActiveConnection()).LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: ttl})
	return err
}

// coreScrub returns a copy of m without the header fields that differ between
// servers (cluster, member, raft term), in nested txn responses too.
func coreScrub(m proto.Message) proto.Message {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return nil
	}
	c := proto.Clone(m)
	coreScrubMsg(c.ProtoReflect())
	return c
}

func coreScrubMsg(m protoreflect.Message) {
	d := m.Descriptor()
	if d.FullName() == "etcdserverpb.ResponseHeader" {
		for _, f := range []protoreflect.Name{"cluster_id", "member_id", "raft_term"} {
			m.Clear(d.Fields().ByName(f))
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			for i, l := 0, v.List(); i < l.Len(); i++ {
				coreScrubMsg(l.Get(i).Message())
			}
		default:
			coreScrubMsg(v.Message())
		}
		return true
	})
}

// coreDiff is the difference of two responses, headers scrubbed; "" if none.
func coreDiff(ours, theirs proto.Message) string {
	return cmp.Diff(coreScrub(ours), coreScrub(theirs), protocmp.Transform())
}

// dualOpt is one option in both clients' spelling.
type dualOpt struct {
	name   string
	ours   []client.OpOption
	theirs []clientv3.OpOption
}

func dualOpt1(name string, o client.OpOption, t clientv3.OpOption) dualOpt {
	return dualOpt{name, []client.OpOption{o}, []clientv3.OpOption{t}}
}

var (
	oPrefix       = dualOpt1("prefix", client.WithPrefix(), clientv3.WithPrefix())
	oFromKey      = dualOpt1("fromkey", client.WithFromKey(), clientv3.WithFromKey())
	oSerializable = dualOpt1("serializable", client.WithSerializable(), clientv3.WithSerializable())
	oKeysOnly     = dualOpt1("keysonly", client.WithKeysOnly(), clientv3.WithKeysOnly())
	oCountOnly    = dualOpt1("countonly", client.WithCountOnly(), clientv3.WithCountOnly())
	oPrevKV       = dualOpt1("prevkv", client.WithPrevKV(), clientv3.WithPrevKV())
	oIgnoreValue  = dualOpt1("ignorevalue", client.WithIgnoreValue(), clientv3.WithIgnoreValue())
	oIgnoreLease  = dualOpt1("ignorelease", client.WithIgnoreLease(), clientv3.WithIgnoreLease())
	oFirstCreate  = dualOpt{"firstcreate", client.WithFirstCreate(), clientv3.WithFirstCreate()}
	oLastCreate   = dualOpt{"lastcreate", client.WithLastCreate(), clientv3.WithLastCreate()}
	oFirstKey     = dualOpt{"firstkey", client.WithFirstKey(), clientv3.WithFirstKey()}
	oLastKey      = dualOpt{"lastkey", client.WithLastKey(), clientv3.WithLastKey()}
	oFirstRev     = dualOpt{"firstrev", client.WithFirstRev(), clientv3.WithFirstRev()}
	oLastRev      = dualOpt{"lastrev", client.WithLastRev(), clientv3.WithLastRev()}
)

func oRange(end string) dualOpt {
	return dualOpt1(fmt.Sprintf("range(%q)", end), client.WithRange(end), clientv3.WithRange(end))
}
func oRev(r int64) dualOpt {
	return dualOpt1(fmt.Sprintf("rev(%d)", r), client.WithRev(r), clientv3.WithRev(r))
}
func oLimit(n int64) dualOpt {
	return dualOpt1(fmt.Sprintf("limit(%d)", n), client.WithLimit(n), clientv3.WithLimit(n))
}
func oLease(id int64) dualOpt {
	return dualOpt1(fmt.Sprintf("lease(%#x)", id), client.WithLease(client.LeaseID(id)), clientv3.WithLease(clientv3.LeaseID(id)))
}
func oMinMod(r int64) dualOpt {
	return dualOpt1(fmt.Sprintf("minmod(%d)", r), client.WithMinModRev(r), clientv3.WithMinModRev(r))
}
func oMaxMod(r int64) dualOpt {
	return dualOpt1(fmt.Sprintf("maxmod(%d)", r), client.WithMaxModRev(r), clientv3.WithMaxModRev(r))
}
func oMinCreate(r int64) dualOpt {
	return dualOpt1(fmt.Sprintf("mincreate(%d)", r), client.WithMinCreateRev(r), clientv3.WithMinCreateRev(r))
}
func oMaxCreate(r int64) dualOpt {
	return dualOpt1(fmt.Sprintf("maxcreate(%d)", r), client.WithMaxCreateRev(r), clientv3.WithMaxCreateRev(r))
}

var (
	sortTargets = []client.SortTarget{client.SortByKey, client.SortByVersion, client.SortByCreateRevision, client.SortByModRevision, client.SortByValue}
	sortOrders  = []client.SortOrder{client.SortNone, client.SortAscend, client.SortDescend}
)

func oSort(tg client.SortTarget, o client.SortOrder) dualOpt {
	return dualOpt1(fmt.Sprintf("sort(%d,%d)", tg, o), client.WithSort(tg, o), clientv3.WithSort(clientv3.SortTarget(tg), clientv3.SortOrder(o)))
}

// dualCmp is one compare in both clients' spelling.
type dualCmp struct {
	name   string
	ours   client.Cmp
	theirs clientv3.Cmp
}

// dCmp builds a compare of target ("value", "version", "create", "mod" or
// "lease") on key. For the official client "==" is spelled "=", and a lease
// is a clientv3.LeaseID.
func dCmp(target, key, op string, v any) dualCmp {
	var o client.Cmp
	var th clientv3.Cmp
	switch target {
	case "value":
		o, th = client.Value(key), clientv3.Value(key)
	case "version":
		o, th = client.Version(key), clientv3.Version(key)
	case "create":
		o, th = client.CreateRevision(key), clientv3.CreateRevision(key)
	case "mod":
		o, th = client.ModRevision(key), clientv3.ModRevision(key)
	case "lease":
		o, th = client.LeaseValue(key), clientv3.LeaseValue(key)
	default:
		panic("dCmp: unknown target " + target)
	}
	tv := v
	if target == "lease" {
		if id, ok := v.(client.LeaseID); ok {
			tv = clientv3.LeaseID(id)
		}
	}
	top := op
	if op == "==" {
		top = "="
	}
	return dualCmp{
		name:   fmt.Sprintf("%s(%q)%s%v", target, key, op, v),
		ours:   client.Compare(o, op, v),
		theirs: clientv3.Compare(th, top, tv),
	}
}

func (c dualCmp) prefix() dualCmp {
	return dualCmp{c.name + ".prefix", c.ours.WithPrefix(), c.theirs.WithPrefix()}
}

func (c dualCmp) rng(end string) dualCmp {
	return dualCmp{fmt.Sprintf("%s.range(%q)", c.name, end), c.ours.WithRange(end), c.theirs.WithRange(end)}
}

// dualOp is one operation in both clients' spelling.
type dualOp struct {
	kind     string // get, put, del or txn
	key, val string
	opts     []dualOpt
	cmps     []dualCmp
	thn, els []dualOp
}

func dGet(key string, opts ...dualOpt) dualOp { return dualOp{kind: "get", key: key, opts: opts} }
func dPut(key, val string, opts ...dualOpt) dualOp {
	return dualOp{kind: "put", key: key, val: val, opts: opts}
}
func dDel(key string, opts ...dualOpt) dualOp { return dualOp{kind: "del", key: key, opts: opts} }
func dTxn(cmps []dualCmp, thn, els []dualOp) dualOp {
	return dualOp{kind: "txn", cmps: cmps, thn: thn, els: els}
}

func (d dualOp) String() string {
	var b strings.Builder
	if d.kind == "txn" {
		b.WriteString("txn[if")
		for _, c := range d.cmps {
			b.WriteString(" " + c.name)
		}
		b.WriteString(" then")
		for _, o := range d.thn {
			b.WriteString(" " + o.String())
		}
		b.WriteString(" else")
		for _, o := range d.els {
			b.WriteString(" " + o.String())
		}
		b.WriteString("]")
		return b.String()
	}
	fmt.Fprintf(&b, "%s(%q", d.kind, d.key)
	if d.kind == "put" {
		v := d.val
		if len(v) > 16 {
			v = fmt.Sprintf("%d bytes", len(v))
		}
		fmt.Fprintf(&b, ",%q", v)
	}
	for _, o := range d.opts {
		b.WriteString("," + o.name)
	}
	b.WriteString(")")
	return b.String()
}

func (d dualOp) oursOpts() []client.OpOption {
	var out []client.OpOption
	for _, o := range d.opts {
		out = append(out, o.ours...)
	}
	return out
}

func (d dualOp) theirsOpts() []clientv3.OpOption {
	var out []clientv3.OpOption
	for _, o := range d.opts {
		out = append(out, o.theirs...)
	}
	return out
}

func (d dualOp) oursCmps() []client.Cmp {
	out := make([]client.Cmp, len(d.cmps))
	for i, c := range d.cmps {
		out[i] = c.ours
	}
	return out
}

func (d dualOp) theirsCmps() []clientv3.Cmp {
	out := make([]clientv3.Cmp, len(d.cmps))
	for i, c := range d.cmps {
		out[i] = c.theirs
	}
	return out
}

func dualOursOps(ds []dualOp) []client.Op {
	out := make([]client.Op, len(ds))
	for i, d := range ds {
		out[i] = d.oursOp()
	}
	return out
}

func dualTheirsOps(ds []dualOp) []clientv3.Op {
	out := make([]clientv3.Op, len(ds))
	for i, d := range ds {
		out[i] = d.theirsOp()
	}
	return out
}

func (d dualOp) oursOp() client.Op {
	switch d.kind {
	case "get":
		return client.OpGet(d.key, d.oursOpts()...)
	case "put":
		return client.OpPut(d.key, d.val, d.oursOpts()...)
	case "del":
		return client.OpDelete(d.key, d.oursOpts()...)
	}
	return client.OpTxn(d.oursCmps(), dualOursOps(d.thn), dualOursOps(d.els))
}

func (d dualOp) theirsOp() clientv3.Op {
	switch d.kind {
	case "get":
		return clientv3.OpGet(d.key, d.theirsOpts()...)
	case "put":
		return clientv3.OpPut(d.key, d.val, d.theirsOpts()...)
	case "del":
		return clientv3.OpDelete(d.key, d.theirsOpts()...)
	}
	return clientv3.OpTxn(d.theirsCmps(), dualTheirsOps(d.thn), dualTheirsOps(d.els))
}

// isWrite reports whether d changes the server in any branch.
func (d dualOp) isWrite() bool {
	switch d.kind {
	case "put", "del":
		return true
	case "txn":
		for _, o := range append(append([]dualOp(nil), d.thn...), d.els...) {
			if o.isWrite() {
				return true
			}
		}
	}
	return false
}

// coreVia is how an op is sent: through the KV method of its kind (Get, Put,
// Delete, Txn...Commit) or through Do.
type coreVia int

const (
	coreViaMethod coreVia = iota
	coreViaDo
)

func (v coreVia) String() string { return [...]string{"method", "do"}[v] }

// coreMsg converts a typed response pointer to a proto.Message, nil for nil.
func coreMsg[T any, P interface {
	*T
	proto.Message
}](p P) proto.Message {
	if p == nil {
		return nil
	}
	return p
}

func dualRunOurs(ctx context.Context, c *client.Client, d dualOp, v coreVia) (proto.Message, error) {
	if v == coreViaDo {
		r, err := c.Do(ctx, d.oursOp())
		switch {
		case r.Get() != nil:
			return (*pb.RangeResponse)(r.Get()), err
		case r.Put() != nil:
			return (*pb.PutResponse)(r.Put()), err
		case r.Del() != nil:
			return (*pb.DeleteRangeResponse)(r.Del()), err
		case r.Txn() != nil:
			return (*pb.TxnResponse)(r.Txn()), err
		}
		return nil, err
	}
	switch d.kind {
	case "get":
		r, err := c.Get(ctx, d.key, d.oursOpts()...)
		return coreMsg((*pb.RangeResponse)(r)), err
	case "put":
		r, err := c.Put(ctx, d.key, d.val, d.oursOpts()...)
		return coreMsg((*pb.PutResponse)(r)), err
	case "del":
		r, err := c.Delete(ctx, d.key, d.oursOpts()...)
		return coreMsg((*pb.DeleteRangeResponse)(r)), err
	}
	r, err := c.Txn(ctx).If(d.oursCmps()...).Then(dualOursOps(d.thn)...).Else(dualOursOps(d.els)...).Commit()
	return coreMsg((*pb.TxnResponse)(r)), err
}

func dualRunTheirs(ctx context.Context, c *clientv3.Client, d dualOp, v coreVia) (proto.Message, error) {
	if v == coreViaDo {
		r, err := c.Do(ctx, d.theirsOp())
		switch {
		case r.Get() != nil:
			return (*pb.RangeResponse)(r.Get()), err
		case r.Put() != nil:
			return (*pb.PutResponse)(r.Put()), err
		case r.Del() != nil:
			return (*pb.DeleteRangeResponse)(r.Del()), err
		case r.Txn() != nil:
			return (*pb.TxnResponse)(r.Txn()), err
		}
		return nil, err
	}
	switch d.kind {
	case "get":
		r, err := c.Get(ctx, d.key, d.theirsOpts()...)
		return coreMsg((*pb.RangeResponse)(r)), err
	case "put":
		r, err := c.Put(ctx, d.key, d.val, d.theirsOpts()...)
		return coreMsg((*pb.PutResponse)(r)), err
	case "del":
		r, err := c.Delete(ctx, d.key, d.theirsOpts()...)
		return coreMsg((*pb.DeleteRangeResponse)(r)), err
	}
	r, err := c.Txn(ctx).If(d.theirsCmps()...).Then(dualTheirsOps(d.thn)...).Else(dualTheirsOps(d.els)...).Commit()
	return coreMsg((*pb.TxnResponse)(r)), err
}

// dualCase is one request and what must hold of the answers.
type dualCase struct {
	op dualOp
	// err is the server error both clients must return; nil for success.
	err error
	// doOnly sends a write through Do instead of its method. Reads go
	// through both.
	doOnly bool
	// check, when set, asserts something of our answer beyond equality
	// with clientv3's, so that a case cannot pass without exercising what
	// it names.
	check func(t *testing.T, m proto.Message)
}

func (c dualCase) name() string {
	n := c.op.String()
	if c.doOnly {
		n = "Do:" + n
	}
	return n
}

// run sends the case through both clients and compares the answers. A read
// goes to server A through both clients, once per method and once through
// Do, and a get also through GetStream; a write goes through our client to
// A and through clientv3 to B.
func (tw *coreTwin) run(t *testing.T, c dualCase) {
	t.Helper()
	t.Run(c.name(), func(t *testing.T) {
		ctx := coreCtx(t)
		write := c.op.isWrite()
		theirs := tw.theirsA
		vias := []coreVia{coreViaMethod, coreViaDo}
		if write {
			theirs = tw.theirsB
			vias = []coreVia{coreViaMethod}
			if c.doOnly {
				vias = []coreVia{coreViaDo}
			}
		}
		for i, v := range vias {
			om, oerr := dualRunOurs(ctx, tw.ours, c.op, v)
			tm, terr := dualRunTheirs(ctx, theirs, c.op, v)
			coreSameErr(t, v.String(), c.err, oerr, terr)
			if oerr == nil && terr == nil {
				if d := coreDiff(om, tm); d != "" {
					t.Errorf("%s: answers differ (-ours +clientv3):\n%s", v, d)
				}
				if c.check != nil && i == 0 {
					c.check(t, om)
				}
			}
		}
		if !write && c.op.kind == "get" {
			dualCompareStreams(ctx, t, tw.ours, theirs, c.op, c.err)
		}
	})
}

// coreSameErr checks that both clients failed with want (a server error: both
// == and errors.Is must hold for ours), or both succeeded when want is nil.
func coreSameErr(t *testing.T, what string, want, ours, theirs error) {
	t.Helper()
	if want == nil {
		if ours != nil || theirs != nil {
			t.Errorf("%s: want success; ours: %v, clientv3: %v", what, ours, theirs)
		}
		return
	}
	if ours != want || !errors.Is(ours, want) {
		t.Errorf("%s: our error = %#v (%v), want %v (by == and errors.Is)", what, ours, ours, want)
	}
	if !errors.Is(theirs, want) {
		t.Errorf("%s: clientv3's error = %v, want %v: the case does not test what it says", what, theirs, want)
	}
}

// dualStreamParts collects a GetStream: its parts and the error that ended it.
func dualStreamParts[R any](ch <-chan R, part func(R) (*pb.RangeResponse, error)) ([]*pb.RangeResponse, error) {
	var out []*pb.RangeResponse
	for r := range ch {
		p, err := part(r)
		if err != nil {
			// Drain: the sender closes the channel after the error.
			for range ch {
			}
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// dualCompareStreams reads the same range with both clients' GetStream, part
// by part and merged with GetStreamToGetResponse. Where the server streams a
// range at all (it refuses sorts and revision filters with Unimplemented),
// the merged answer must also be what our Get returns.
func dualCompareStreams(ctx context.Context, t *testing.T, ours *client.Client, theirs *clientv3.Client, d dualOp, wantErr error) {
	t.Helper()
	open := func() (client.GetStreamChan, clientv3.GetStreamChan) {
		och, oerr := ours.GetStream(ctx, d.key, d.oursOpts()...)
		tch, terr := theirs.GetStream(ctx, d.key, d.theirsOpts()...)
		if oerr != nil || terr != nil {
			t.Fatalf("GetStream open: ours: %v, clientv3: %v", oerr, terr)
		}
		return och, tch
	}
	och, tch := open()
	oparts, oerr := dualStreamParts(och, func(r client.RangeStreamResponse) (*pb.RangeResponse, error) { return r.RangeResponse, r.Err() })
	tparts, terr := dualStreamParts(tch, func(r clientv3.RangeStreamResponse) (*pb.RangeResponse, error) {
		return r.RangeResponse, r.Err()
	})
	if status.Code(terr) == codes.Unimplemented && strings.HasPrefix(status.Convert(terr).Message(), "unknown method") {
		// A server before etcd 3.7: both clients pass on its refusal,
		// ours explained, whatever else the case expects of a stream.
		if !errors.Is(oerr, client.ErrNoRangeStream) || !dualSameStreamErr(oerr, terr) || len(oparts)+len(tparts) > 0 {
			t.Errorf("GetStream on a server without streams: our error %v after %d parts, clientv3's %v after %d", oerr, len(oparts), terr, len(tparts))
		}
		return
	}
	if wantErr != nil {
		coreSameErr(t, "GetStream", wantErr, oerr, terr)
	} else if (oerr == nil) != (terr == nil) || oerr != nil && (status.Code(oerr) != status.Code(terr) || !dualSameStreamErr(oerr, terr)) {
		t.Errorf("GetStream: our error %v, clientv3's %v", oerr, terr)
	}
	if len(oparts) != len(tparts) {
		t.Errorf("GetStream: %d parts, clientv3 got %d", len(oparts), len(tparts))
	}
	for i := range min(len(oparts), len(tparts)) {
		if d := coreDiff(oparts[i], tparts[i]); d != "" {
			t.Errorf("GetStream part %d differs (-ours +clientv3):\n%s", i, d)
		}
	}
	if oerr != nil || terr != nil {
		return
	}
	och, tch = open()
	om, oerr := client.GetStreamToGetResponse(och)
	tm, terr := clientv3.GetStreamToGetResponse(tch)
	if oerr != nil || terr != nil {
		t.Fatalf("GetStreamToGetResponse: ours: %v, clientv3: %v", oerr, terr)
	}
	if d := coreDiff((*pb.RangeResponse)(om), (*pb.RangeResponse)(tm)); d != "" {
		t.Errorf("GetStreamToGetResponse differs (-ours +clientv3):\n%s", d)
	}
	if d.oursOp().IsSortSet() {
		// The server streams a sort target with no order in key order,
		// where Range sorts ascending: both clients see that alike.
		return
	}
	g, err := ours.Get(ctx, d.key, d.oursOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	if d := coreDiff((*pb.RangeResponse)(om), (*pb.RangeResponse)(g)); d != "" {
		t.Errorf("GetStreamToGetResponse differs from Get (-stream +get):\n%s", d)
	}
}

// dualSameStreamErr reports whether our GetStream error says what
// clientv3's does: the same text, or, from a server without streamed ranges,
// the server's answer explained (client.ErrNoRangeStream).
func dualSameStreamErr(ours, theirs error) bool {
	if ours.Error() == theirs.Error() {
		return true
	}
	return errors.Is(ours, client.ErrNoRangeStream) && strings.HasSuffix(ours.Error(), ": "+status.Convert(theirs).Message())
}

// kvWantKeys checks the keys (in order) of a get answer.
func kvWantKeys(keys ...string) func(*testing.T, proto.Message) {
	return func(t *testing.T, m proto.Message) {
		t.Helper()
		r := m.(*pb.RangeResponse)
		var got []string
		for _, kv := range r.Kvs {
			got = append(got, string(kv.Key))
		}
		if !slices.Equal(got, keys) {
			t.Errorf("keys = %q, want %q", got, keys)
		}
	}
}

// kvWantGet checks count, more and the number of kvs of a get answer.
func kvWantGet(count int64, more bool, nkvs int) func(*testing.T, proto.Message) {
	return func(t *testing.T, m proto.Message) {
		t.Helper()
		r := m.(*pb.RangeResponse)
		if r.Count != count || r.More != more || len(r.Kvs) != nkvs {
			t.Errorf("count=%d more=%v kvs=%d, want %d %v %d", r.Count, r.More, len(r.Kvs), count, more, nkvs)
		}
	}
}

// kvSeedRevs are revisions the seed recorded, for cases that read history.
type kvSeedRevs struct {
	mid   int64 // after the a/ keys: a/4 still exists, a/1 is at version 3
	after int64 // after the b/, c, e/ keys
	end   int64 // the end of the seed
}

// kvSeed fills a key space with several prefixes, keys at versions above 1,
// keys with a lease, keys deleted by a delete and by a lease revoke.
func kvSeed(revs *kvSeedRevs) func(c *clientv3.Client) error {
	return func(c *clientv3.Client) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, id := range []int64{kvLeaseKeep, kvLeaseGone, kvLeaseSpare} {
			if err := coreGrant(ctx, c, id, 3600); err != nil {
				return err
			}
		}
		type step struct {
			k, v  string
			lease int64
		}
		put := func(steps ...step) (int64, error) {
			var rev int64
			for _, s := range steps {
				r, err := c.Put(ctx, s.k, s.v, clientv3.WithLease(clientv3.LeaseID(s.lease)))
				if err != nil {
					return 0, err
				}
				rev = r.Header.Revision
			}
			return rev, nil
		}
		var err error
		if revs.mid, err = put(step{"a/1", "v1-1", 0}, step{"a/2", "v2", 0}, step{"a/1", "v1-2", 0},
			step{"a/3", "v3", kvLeaseKeep}, step{"a/1", "v1-3", 0}, step{"a/4", "v4", 0}); err != nil {
			return err
		}
		if revs.after, err = put(step{"b/x", "x", kvLeaseKeep}, step{"b/y", "y", 0}, step{"c", "solo", 0},
			step{"e/same/1", "same", 0}, step{"e/same/2", "same", 0}, step{"e/mixed/1", "one", 0}, step{"e/mixed/2", "two", 0},
			step{"d/1", "d1", kvLeaseGone}, step{"d/2", "d2", kvLeaseGone}); err != nil {
			return err
		}
		if _, err := c.Revoke(ctx, kvLeaseGone); err != nil {
			return err
		}
		if _, err := c.Delete(ctx, "a/4"); err != nil {
			return err
		}
		if revs.end, err = put(step{"\xff\xfe", "high", 0}, step{"zz/1", "z1", 0}, step{"zz/2", "z2", 0}, step{"a/2", "v2-2", 0}); err != nil {
			return err
		}
		return nil
	}
}

// kvSeedKeys is the key space kvSeed leaves, in key order.
var kvSeedKeys = []string{"a/1", "a/2", "a/3", "b/x", "b/y", "c", "e/mixed/1", "e/mixed/2", "e/same/1", "e/same/2", "zz/1", "zz/2", "\xff\xfe"}

func TestKVMatchesOfficial(t *testing.T) {
	tw := startCoreTwin(t)
	var revs kvSeedRevs
	tw.seed(t, kvSeed(&revs))

	t.Run("read", func(t *testing.T) {
		cases := []dualCase{
			{op: dGet("a/1"), check: kvWantKeys("a/1")},
			{op: dGet("nope"), check: kvWantKeys()},
			{op: dGet("a/", oPrefix), check: kvWantKeys("a/1", "a/2", "a/3")},
			{op: dGet("", oPrefix), check: kvWantKeys(kvSeedKeys...)},
			{op: dGet("\xff", oPrefix), check: kvWantKeys("\xff\xfe")},
			{op: dGet("a/2", oRange("b/y")), check: kvWantKeys("a/2", "a/3", "b/x")},
			{op: dGet("b", oRange("a")), check: kvWantKeys()},
			{op: dGet("b/", oFromKey), check: kvWantKeys(kvSeedKeys[3:]...)},
			{op: dGet("", oFromKey), check: kvWantKeys(kvSeedKeys...)},
			{op: dGet("a/", oPrefix, oRev(revs.mid)), check: kvWantKeys("a/1", "a/2", "a/3", "a/4")},
			{op: dGet("d/", oPrefix, oRev(revs.after)), check: kvWantKeys("d/1", "d/2")},
			{op: dGet("d/", oPrefix), check: kvWantKeys()},
			{op: dGet("a/1", oRev(revs.mid)), check: func(t *testing.T, m proto.Message) {
				kv := m.(*pb.RangeResponse).Kvs
				if len(kv) != 1 || string(kv[0].Value) != "v1-3" || kv[0].Version != 3 {
					t.Errorf("a/1 at revision %d = %v, want v1-3 at version 3", revs.mid, kv)
				}
			}},
			{op: dGet("a/1", oRev(0)), check: kvWantKeys("a/1")},
			{op: dGet("a/1", oRev(revs.end+1000)), err: rpctypes.ErrFutureRev},
			{op: dGet("a/", oPrefix, oLimit(2)), check: kvWantGet(3, true, 2)},
			{op: dGet("a/", oPrefix, oLimit(3)), check: kvWantGet(3, false, 3)},
			{op: dGet("a/", oPrefix, oLimit(0)), check: kvWantGet(3, false, 3)},
			{op: dGet("", oPrefix, oSort(client.SortByKey, client.SortAscend), oLimit(2)), check: kvWantKeys("a/1", "a/2")},
			{op: dGet("", oPrefix, oSort(client.SortByKey, client.SortDescend), oLimit(2)), check: kvWantKeys("\xff\xfe", "zz/2")},
			{op: dGet("e/", oPrefix, oSort(client.SortByValue, client.SortDescend)), check: func(t *testing.T, m proto.Message) {
				// "two" > "same" = "same" > "one"; ties may come in any order.
				kv := m.(*pb.RangeResponse).Kvs
				if len(kv) != 4 || string(kv[0].Key) != "e/mixed/2" || string(kv[3].Key) != "e/mixed/1" {
					t.Errorf("by value descending: %v", kv)
				}
			}},
			{op: dGet("", oPrefix, oSort(client.SortByModRevision, client.SortDescend), oLimit(1)), check: kvWantKeys("a/2")},
			{op: dGet("a/", oPrefix, oSerializable), check: kvWantKeys("a/1", "a/2", "a/3")},
			{op: dGet("a/", oPrefix, oKeysOnly), check: func(t *testing.T, m proto.Message) {
				for _, kv := range m.(*pb.RangeResponse).Kvs {
					if len(kv.Value) != 0 || kv.ModRevision == 0 {
						t.Errorf("keys only: %v", kv)
					}
				}
			}},
			{op: dGet("a/", oPrefix, oKeysOnly, oLimit(1)), check: kvWantGet(3, true, 1)},
			{op: dGet("a/", oPrefix, oCountOnly), check: kvWantGet(3, false, 0)},
			{op: dGet("a/", oPrefix, oCountOnly, oRev(revs.mid)), check: kvWantGet(4, false, 0)},
			{op: dGet("", oPrefix, oMinMod(revs.after)), check: kvWantKeys("a/2", "zz/1", "zz/2", "\xff\xfe")},
			{op: dGet("", oPrefix, oMaxMod(revs.mid)), check: kvWantKeys("a/1", "a/3")},
			{op: dGet("", oPrefix, oMinCreate(revs.end-3)), check: kvWantKeys("zz/1", "zz/2", "\xff\xfe")},
			{op: dGet("", oPrefix, oMaxCreate(revs.mid)), check: kvWantKeys("a/1", "a/2", "a/3")},
			{op: dGet("", oPrefix, oMinMod(revs.mid), oMaxMod(revs.after), oMaxCreate(revs.after)), check: kvWantKeys("b/x", "b/y", "c", "e/mixed/1", "e/mixed/2", "e/same/1", "e/same/2")},
			{op: dGet("a/", oFirstCreate), check: kvWantKeys("a/1")},
			{op: dGet("a/", oLastCreate), check: kvWantKeys("a/3")},
			{op: dGet("a/", oFirstKey), check: kvWantKeys("a/1")},
			{op: dGet("a/", oLastKey), check: kvWantKeys("a/3")},
			{op: dGet("a/", oFirstRev), check: kvWantKeys("a/3")},
			{op: dGet("a/", oLastRev), check: kvWantKeys("a/2")},
			{op: dGet("", oFirstCreate), check: kvWantKeys("a/1")},
			{op: dGet("", oLastCreate), check: kvWantKeys("zz/2")},
			{op: dGet("", oLastKey), check: kvWantKeys("\xff\xfe")},
			{op: dGet("", oLastRev), check: kvWantKeys("a/2")},
		}
		for _, tg := range sortTargets {
			for _, o := range sortOrders {
				cases = append(cases, dualCase{op: dGet("", oPrefix, oSort(tg, o))})
				cases = append(cases, dualCase{op: dGet("a/", oPrefix, oSort(tg, o), oLimit(2)), check: kvWantGet(3, true, 2)})
			}
		}
		for _, c := range cases {
			tw.run(t, c)
		}
	})

	t.Run("write", func(t *testing.T) {
		big := strings.Repeat("x", 1600*1024) // above the server's 1.5 MiB, below the 2 MiB send limit
		prevValue := func(want string) func(*testing.T, proto.Message) {
			return func(t *testing.T, m proto.Message) {
				t.Helper()
				pk := m.(*pb.PutResponse).PrevKv
				if want == "" && pk != nil || want != "" && (pk == nil || string(pk.Value) != want) {
					t.Errorf("prev kv = %v, want value %q", pk, want)
				}
			}
		}
		deleted := func(n int64, prev ...string) func(*testing.T, proto.Message) {
			return func(t *testing.T, m proto.Message) {
				t.Helper()
				r := m.(*pb.DeleteRangeResponse)
				var got []string
				for _, kv := range r.PrevKvs {
					got = append(got, string(kv.Key))
				}
				if r.Deleted != n || !slices.Equal(got, prev) {
					t.Errorf("deleted %d, prev keys %q; want %d, %q", r.Deleted, got, n, prev)
				}
			}
		}
		lease := func(key string, want int64, val string) dualCase {
			return dualCase{op: dGet(key), check: func(t *testing.T, m proto.Message) {
				t.Helper()
				kv := m.(*pb.RangeResponse).Kvs
				if len(kv) != 1 || kv[0].Lease != want || string(kv[0].Value) != val {
					t.Errorf("%s = %v, want value %q lease %#x", key, kv, val, want)
				}
			}}
		}
		cases := []dualCase{
			{op: dPut("w/new", "1"), check: prevValue("")},
			{op: dPut("w/new", "2", oPrevKV), check: prevValue("1")},
			{op: dPut("w/lease", "x", oLease(kvLeaseSpare))},
			lease("w/lease", kvLeaseSpare, "x"),
			{op: dPut("w/bad", "x", oLease(0x9999)), err: rpctypes.ErrLeaseNotFound},
			{op: dPut("w/new", "", oIgnoreValue)},
			lease("w/new", 0, "2"),
			{op: dPut("w/new", "v", oIgnoreValue), err: rpctypes.ErrValueProvided},
			{op: dPut("absent/x", "", oIgnoreValue), err: rpctypes.ErrKeyNotFound},
			{op: dPut("absent/x", "v", oIgnoreLease), err: rpctypes.ErrKeyNotFound},
			{op: dPut("w/lease", "y", oIgnoreLease)},
			lease("w/lease", kvLeaseSpare, "y"),
			{op: dPut("w/lease", "z", oIgnoreLease, oLease(kvLeaseSpare)), err: rpctypes.ErrLeaseProvided},
			{op: dPut("w/new", "", oIgnoreValue, oLease(kvLeaseKeep), oPrevKV), check: prevValue("2")},
			lease("w/new", kvLeaseKeep, "2"),
			{op: dPut("w/new", "3", oIgnoreLease, oPrevKV), check: prevValue("2")},
			lease("w/new", kvLeaseKeep, "3"),
			{op: dPut("w/do", "1"), doOnly: true},
			{op: dPut("w/do", "2", oPrevKV), doOnly: true, check: prevValue("1")},
			{op: dPut("w/big", big), err: rpctypes.ErrRequestTooLarge},
			{op: dDel("a/1"), check: deleted(1)},
			{op: dDel("a/1"), check: deleted(0)},
			{op: dDel("a/2", oPrevKV), check: deleted(1, "a/2")},
			{op: dDel("b/", oPrefix, oPrevKV), check: deleted(2, "b/x", "b/y")},
			{op: dDel("e/mixed/1", oRange("e/mixed/3"), oPrevKV), check: deleted(2, "e/mixed/1", "e/mixed/2")},
			{op: dDel("zz/", oFromKey, oPrevKV), check: deleted(3, "zz/1", "zz/2", "\xff\xfe")},
			{op: dDel("e/same/", oPrefix), doOnly: true, check: deleted(2)},
			{op: dDel("w/do"), doOnly: true, check: deleted(1)},
			{op: dGet("", oPrefix), check: kvWantKeys("a/3", "c", "w/lease", "w/new")},
		}
		for _, c := range cases {
			tw.run(t, c)
		}
	})

	t.Run("compact", func(t *testing.T) {
		ctx := coreCtx(t)
		compact := func(rev int64, physical bool, want error) {
			t.Helper()
			var oo []client.CompactOption
			var to []clientv3.CompactOption
			if physical {
				oo, to = append(oo, client.WithCompactPhysical()), append(to, clientv3.WithCompactPhysical())
			}
			or, oerr := tw.ours.Compact(ctx, rev, oo...)
			tr, terr := tw.theirsB.Compact(ctx, rev, to...)
			coreSameErr(t, fmt.Sprintf("Compact(%d, physical=%v)", rev, physical), want, oerr, terr)
			if oerr == nil && terr == nil {
				if d := coreDiff((*pb.CompactionResponse)(or), (*pb.CompactionResponse)(tr)); d != "" {
					t.Errorf("Compact(%d) answers differ:\n%s", rev, d)
				}
			}
		}
		compact(revs.mid, false, nil)
		// Reading at the compacted revision still works, before it fails.
		tw.run(t, dualCase{op: dGet("a/", oPrefix, oRev(revs.mid)), check: kvWantKeys("a/1", "a/2", "a/3", "a/4")})
		tw.run(t, dualCase{op: dGet("a/", oPrefix, oRev(revs.mid-1)), err: rpctypes.ErrCompacted})
		compact(revs.mid, false, rpctypes.ErrCompacted)
		compact(revs.mid-2, false, rpctypes.ErrCompacted)
		now := coreRev(ctx, t, tw.theirsB)
		compact(now+100, false, rpctypes.ErrFutureRev)
		compact(revs.end, true, nil)
		tw.run(t, dualCase{op: dGet("a/", oPrefix, oRev(revs.after)), err: rpctypes.ErrCompacted})
		tw.run(t, dualCase{op: dGet("a/", oPrefix, oRev(revs.end)), check: kvWantKeys("a/1", "a/2", "a/3")})
		tw.run(t, dualCase{op: dTxn(nil, []dualOp{dGet("a/", oPrefix, oRev(revs.after))}, nil), err: rpctypes.ErrCompacted})
	})

	tw.checkLockstep(t)
}

// TestKVServerErrorIdentity checks that server errors come back as the very
// rpctypes values, whatever the call: a caller may compare with ==.
func TestKVServerErrorIdentity(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := coreCtx(t)
	_, err := c.Put(ctx, "k", "v", client.WithLease(0x7777))
	if err != rpctypes.ErrLeaseNotFound {
		t.Errorf("Put with an unknown lease: %#v, want rpctypes.ErrLeaseNotFound", err)
	}
	if got := client.Classify(err); got.Code != client.CodeLeaseNotFound || got.Retryable {
		t.Errorf("Classify(%v) = %+v", err, got)
	}
	_, err = c.Get(ctx, "k", client.WithRev(1<<40))
	if err != rpctypes.ErrFutureRev {
		t.Errorf("Get at a future revision: %#v, want rpctypes.ErrFutureRev", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("future revision")) {
		t.Errorf("message %q does not say what failed", err)
	}
}

// TestKVGetStreamCancel cancels GetStream while parts are still coming: the
// caller must see an error, never a shorter range that reads as complete.
func TestKVGetStreamCancel(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := coreCtx(t)
	const n = 64
	val := strings.Repeat("v", 4*1024)
	for i := range n {
		if _, err := c.Put(ctx, fmt.Sprintf("s/%03d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := c.GetStream(ctx, "s/", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	all, err := client.GetStreamToGetResponse(ch)
	if err != nil || len(all.Kvs) != n {
		t.Fatalf("whole stream: %d keys, %v", len(all.Kvs), err)
	}
	parts := 0
	ch, _ = c.GetStream(ctx, "s/", client.WithPrefix())
	for range ch {
		parts++
	}
	t.Logf("%d parts", parts)
	if parts < 3 {
		t.Fatalf("the range came in %d parts; the test needs several", parts)
	}

	truncated := 0
	for i := 0; i < 30; i++ {
		sctx, cancel := context.WithCancel(ctx)
		ch, err := c.GetStream(sctx, "s/", client.WithPrefix())
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		first := <-ch
		cancel()
		got, last := len(first.GetKvs()), first.Err()
		for r := range ch {
			got += len(r.GetKvs())
			last = r.Err()
		}
		switch {
		case last != nil:
			if !errors.Is(last, context.Canceled) {
				t.Errorf("stream cancelled with %v, want context.Canceled", last)
			}
		case got != n:
			truncated++
		}
	}
	if truncated > 0 {
		t.Errorf("%d of 30 cancelled streams ended without an error after a part of the range", truncated)
	}

	// Closing the client ends a stream the same way, and one that nobody
	// reads any more must not keep its goroutine (TestMain checks).
	c2, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	read, err := c2.GetStream(context.Background(), "s/", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	abandoned, err := c2.GetStream(context.Background(), "s/", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	_ = abandoned
	first := <-read
	c2.Close()
	got, last := len(first.GetKvs()), first.Err()
	for r := range read {
		got += len(r.GetKvs())
		last = r.Err()
	}
	if last == nil && got != n {
		t.Errorf("a stream cut by Close read %d of %d keys and no error", got, n)
	}
}
