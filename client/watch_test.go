package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// wtResp is what both clients' WatchResponses say, in one type.
type wtResp struct {
	rev        int64
	member     uint64
	events     []*mvccpb.Event
	created    bool
	canceled   bool
	progress   bool
	compactRev int64
	err        error
}

func wtOurs(r client.WatchResponse) wtResp {
	return wtResp{
		rev: r.Header.GetRevision(), member: r.Header.GetMemberId(), events: r.Events,
		created: r.Created, canceled: r.Canceled, progress: r.IsProgressNotify(),
		compactRev: r.CompactRevision, err: r.Err(),
	}
}

func wtTheirs(r clientv3.WatchResponse) wtResp {
	return wtResp{
		rev: r.Header.GetRevision(), member: r.Header.GetMemberId(), events: r.Events,
		created: r.Created, canceled: r.Canceled, progress: r.IsProgressNotify(),
		compactRev: r.CompactRevision, err: r.Err(),
	}
}

// wtAdapt turns either client's channel into a channel of wtResp.
func wtAdapt[R any](ctx context.Context, ch <-chan R, conv func(R) wtResp) <-chan wtResp {
	out := make(chan wtResp, 1024)
	go func() {
		defer close(out)
		for r := range ch {
			select {
			case out <- conv(r):
			case <-ctx.Done():
				// Keep draining so the client's goroutines are not held.
			}
		}
	}()
	return out
}

func wtCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wtClient(t testing.TB, eps []string, configure ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{Endpoints: eps, DialTimeout: 10 * time.Second}
	for _, f := range configure {
		f(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wtOfficial(t testing.TB, eps []string, configure ...func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()}
	for _, f := range configure {
		f(&cfg)
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("clientv3.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wtNext returns the next response, failing the test if none comes in time.
func wtNext(t testing.TB, ch <-chan wtResp, d time.Duration) (wtResp, bool) {
	t.Helper()
	select {
	case r, ok := <-ch:
		return r, ok
	case <-time.After(d):
		t.Fatalf("no watch response within %v", d)
		return wtResp{}, false
	}
}

// wtCollect reads ch until a progress response at or past rev, which the
// server sends only once every event up to rev has been sent, asking for one
// with request every so often. It returns the responses before it.
func wtCollect(t *testing.T, ch <-chan wtResp, rev int64, request func() error) []wtResp {
	t.Helper()
	var got []wtResp
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	if err := request(); err != nil {
		t.Fatalf("RequestProgress: %v", err)
	}
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed; got %d responses", len(got))
			}
			if r.progress && r.rev >= rev {
				return got
			}
			if !r.progress {
				got = append(got, r)
			}
		case <-tick.C:
			if err := request(); err != nil {
				t.Fatalf("RequestProgress: %v", err)
			}
		case <-deadline:
			t.Fatalf("no progress response at revision %d; got %d responses", rev, len(got))
		}
	}
}

func wtEvents(rs []wtResp) []*mvccpb.Event {
	var out []*mvccpb.Event
	for _, r := range rs {
		out = append(out, r.events...)
	}
	return out
}

func wtSameEvents(t *testing.T, ours, theirs []*mvccpb.Event) {
	t.Helper()
	if len(ours) != len(theirs) {
		t.Fatalf("ours has %d events, official %d:\nours:     %v\nofficial: %v", len(ours), len(theirs), ours, theirs)
	}
	for i := range ours {
		if !proto.Equal(ours[i], theirs[i]) {
			t.Fatalf("event %d differs:\nours:     %v\nofficial: %v", i, ours[i], theirs[i])
		}
	}
}

// wtOpts is a watch's options, for both clients.
type wtOpts struct {
	prefix, fromKey                 bool
	rangeEnd                        string
	rev                             int64
	prevKV, filterPut, filterDelete bool
	createdNotify, fragment         bool
}

func (o wtOpts) ours() []client.OpOption {
	var out []client.OpOption
	if o.prefix {
		out = append(out, client.WithPrefix())
	}
	if o.fromKey {
		out = append(out, client.WithFromKey())
	}
	if o.rangeEnd != "" {
		out = append(out, client.WithRange(o.rangeEnd))
	}
	if o.rev != 0 {
		out = append(out, client.WithRev(o.rev))
	}
	if o.prevKV {
		out = append(out, client.WithPrevKV())
	}
	if o.filterPut {
		out = append(out, client.WithFilterPut())
	}
	if o.filterDelete {
		out = append(out, client.WithFilterDelete())
	}
	if o.createdNotify {
		out = append(out, client.WithCreatedNotify())
	}
	if o.fragment {
		out = append(out, client.WithFragment())
	}
	return out
}

func (o wtOpts) theirs() []clientv3.OpOption {
	var out []clientv3.OpOption
	if o.prefix {
		out = append(out, clientv3.WithPrefix())
	}
	if o.fromKey {
		out = append(out, clientv3.WithFromKey())
	}
	if o.rangeEnd != "" {
		out = append(out, clientv3.WithRange(o.rangeEnd))
	}
	if o.rev != 0 {
		out = append(out, clientv3.WithRev(o.rev))
	}
	if o.prevKV {
		out = append(out, clientv3.WithPrevKV())
	}
	if o.filterPut {
		out = append(out, clientv3.WithFilterPut())
	}
	if o.filterDelete {
		out = append(out, clientv3.WithFilterDelete())
	}
	if o.createdNotify {
		out = append(out, clientv3.WithCreatedNotify())
	}
	if o.fragment {
		out = append(out, clientv3.WithFragment())
	}
	return out
}

// wtWrite is a put (val set) or a delete of a key, or of a prefix.
type wtWrite struct {
	key, val string
	del      bool
	prefix   bool
}

func wtApply(ctx context.Context, t *testing.T, c *clientv3.Client, ws []wtWrite) int64 {
	t.Helper()
	var rev int64
	for _, w := range ws {
		var opts []clientv3.OpOption
		if w.prefix {
			opts = append(opts, clientv3.WithPrefix())
		}
		if w.del {
			resp, err := c.Delete(ctx, w.key, opts...)
			if err != nil {
				t.Fatalf("delete %q: %v", w.key, err)
			}
			rev = resp.Header.Revision
			continue
		}
		resp, err := c.Put(ctx, w.key, w.val)
		if err != nil {
			t.Fatalf("put %q: %v", w.key, err)
		}
		rev = resp.Header.Revision
	}
	return rev
}

func wtPut(k, v string) wtWrite { return wtWrite{key: k, val: v} }
func wtDel(k string) wtWrite    { return wtWrite{key: k, del: true} }

// TestWatchMatchesOfficial runs the same watches with both clients on one
// server, makes the same writes, and expects the same events, created
// responses and progress responses (asked for with RequestProgress).
func TestWatchMatchesOfficial(t *testing.T) {
	cl := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	ours := wtClient(t, cl.Endpoints())
	theirs := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 60*time.Second)

	cases := []struct {
		name   string
		key    string
		opts   wtOpts
		before []wtWrite // written before the watches start
		writes []wtWrite
		// revFrom, when set, makes the watches start at the revision of
		// before[revFrom-1].
		revFrom int
	}{
		{name: "key", key: "k1", writes: []wtWrite{wtPut("k1", "a"), wtPut("k1x", "no"), wtPut("k1", "b"), wtDel("k1"), wtPut("k0", "no")}},
		{name: "prefix", key: "p/", opts: wtOpts{prefix: true},
			writes: []wtWrite{wtPut("p/a", "1"), wtPut("p/b", "2"), wtPut("q/a", "no"), wtPut("p", "no"), wtDel("p/a"), {key: "p/", del: true, prefix: true}}},
		{name: "range", key: "r/b", opts: wtOpts{rangeEnd: "r/d"},
			writes: []wtWrite{wtPut("r/a", "no"), wtPut("r/b", "1"), wtPut("r/c", "2"), wtPut("r/d", "no"), wtPut("r/bz", "3")}},
		{name: "from-key", key: "zf/m", opts: wtOpts{fromKey: true},
			writes: []wtWrite{wtPut("zf/a", "no"), wtPut("zf/m", "1"), wtPut("zf/z", "2"), wtPut("zz", "3")}},
		{name: "rev", key: "v/", opts: wtOpts{prefix: true}, revFrom: 2,
			before: []wtWrite{wtPut("v/a", "1"), wtPut("v/b", "2"), wtPut("v/a", "3")},
			writes: []wtWrite{wtPut("v/c", "4"), wtDel("v/b")}},
		{name: "prev-kv", key: "pk", opts: wtOpts{prevKV: true},
			before: []wtWrite{wtPut("pk", "0")},
			writes: []wtWrite{wtPut("pk", "1"), wtPut("pk", "2"), wtDel("pk"), wtPut("pk", "3")}},
		{name: "filter-put", key: "fp/", opts: wtOpts{prefix: true, filterPut: true},
			writes: []wtWrite{wtPut("fp/a", "1"), wtPut("fp/b", "2"), wtDel("fp/a"), wtPut("fp/a", "3"), wtDel("fp/b")}},
		{name: "filter-delete", key: "fd/", opts: wtOpts{prefix: true, filterDelete: true, prevKV: true},
			writes: []wtWrite{wtPut("fd/a", "1"), wtPut("fd/a", "2"), wtDel("fd/a"), wtPut("fd/b", "3")}},
		{name: "created-notify", key: "cn", opts: wtOpts{createdNotify: true},
			writes: []wtWrite{wtPut("cn", "1")}},
		{name: "empty-key-prefix", key: "", opts: wtOpts{prefix: true},
			writes: []wtWrite{wtPut("all/1", "1"), wtDel("all/1")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if len(tc.before) > 0 {
				for i, w := range tc.before {
					r := wtApply(ctx, t, theirs, []wtWrite{w})
					if i == tc.revFrom-1 {
						opts.rev = r
					}
				}
			}
			wctx, wcancel := context.WithCancel(ctx)
			defer wcancel()
			och := wtAdapt(wctx, ours.Watch(wctx, tc.key, opts.ours()...), wtOurs)
			tch := wtAdapt(wctx, theirs.Watch(wctx, tc.key, opts.theirs()...), wtTheirs)
			var oc, tcr wtResp
			if opts.createdNotify {
				oc, _ = wtNext(t, och, 10*time.Second)
				tcr, _ = wtNext(t, tch, 10*time.Second)
				if !oc.created || !tcr.created || oc.rev != tcr.rev || oc.err != nil {
					t.Fatalf("created responses differ: ours %+v, official %+v", oc, tcr)
				}
			}
			last := wtApply(ctx, t, theirs, tc.writes)
			og := wtCollect(t, och, last, func() error { return ours.RequestProgress(ctx) })
			tg := wtCollect(t, tch, last, func() error { return theirs.RequestProgress(ctx) })
			oe, te := wtEvents(og), wtEvents(tg)
			if len(oe) == 0 {
				t.Fatalf("no events")
			}
			wtSameEvents(t, oe, te)
			for _, r := range og {
				if r.created || r.canceled || r.err != nil {
					t.Fatalf("unexpected response %+v", r)
				}
			}
		})
	}
}

// TestWatchBadInput: invalid options give one canceled response whose error
// wraps ErrInvalidArgument, then a closed channel, without contacting the
// server.
func TestWatchBadInput(t *testing.T) {
	c := wtClient(t, []string{"127.0.0.1:1"}, func(cfg *client.Config) { cfg.DialTimeout = 0 })
	ctx := wtCtx(t, 10*time.Second)
	cases := map[string]func() client.WatchChan{
		"nil ctx":             func() client.WatchChan { return c.Watch(nil, "k") }, //nolint:staticcheck // the point of the test
		"range and from-key":  func() client.WatchChan { return c.Watch(ctx, "k", client.WithRange("z"), client.WithFromKey()) },
		"prefix and range":    func() client.WatchChan { return c.Watch(ctx, "k", client.WithPrefix(), client.WithRange("z")) },
		"negative revision":   func() client.WatchChan { return c.Watch(ctx, "k", client.WithRev(-1)) },
		"from-key and prefix": func() client.WatchChan { return c.Watch(ctx, "k", client.WithPrefix(), client.WithFromKey()) },
	}
	for name, watch := range cases {
		t.Run(name, func(t *testing.T) {
			ch := watch()
			r, ok := <-ch
			if !ok {
				t.Fatal("channel closed without a response")
			}
			if !r.Canceled || !errors.Is(r.Err(), client.ErrInvalidArgument) {
				t.Fatalf("got canceled=%v err=%v, want a canceled response wrapping ErrInvalidArgument", r.Canceled, r.Err())
			}
			if _, ok := <-ch; ok {
				t.Fatal("channel not closed after the error response")
			}
		})
	}
	if err := c.RequestProgress(nil); !errors.Is(err, client.ErrInvalidArgument) { //nolint:staticcheck // the point of the test
		t.Fatalf("RequestProgress(nil) = %v, want ErrInvalidArgument", err)
	}
}

// TestWatchCompacted: a watch from a compacted revision gets one response
// with CompactRevision set and ErrCompacted, then its channel closes; the
// official client says the same.
func TestWatchCompacted(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := wtClient(t, cl.Endpoints())
	theirs := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 30*time.Second)
	first := wtApply(ctx, t, theirs, []wtWrite{wtPut("c", "1")})
	last := wtApply(ctx, t, theirs, []wtWrite{wtPut("c", "2"), wtPut("c", "3")})
	if _, err := theirs.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	och := wtAdapt(ctx, ours.Watch(ctx, "c", client.WithRev(first)), wtOurs)
	tch := wtAdapt(ctx, theirs.Watch(ctx, "c", clientv3.WithRev(first)), wtTheirs)
	o, ok := wtNext(t, och, 10*time.Second)
	if !ok {
		t.Fatal("channel closed without a response")
	}
	th, _ := wtNext(t, tch, 10*time.Second)
	if o.compactRev != last || !o.canceled || o.err != rpctypes.ErrCompacted {
		t.Fatalf("got %+v, want CompactRevision %d, Canceled and ErrCompacted", o, last)
	}
	if o.compactRev != th.compactRev || th.err != o.err {
		t.Fatalf("official says %+v, ours %+v", th, o)
	}
	if _, ok := wtNext(t, och, 10*time.Second); ok {
		t.Fatal("channel not closed after the compaction response")
	}
}

// wtCounter counts the watch streams a client opens and the fragments it
// receives, through gRPC interceptors.
type wtCounter struct {
	streams   atomic.Int64
	fragments atomic.Int64
	auths     atomic.Int64
}

func (c *wtCounter) options() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil || method != "/etcdserverpb.Watch/Watch" {
				return s, err
			}
			c.streams.Add(1)
			return &wtCountingStream{ClientStream: s, c: c}, nil
		}),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			if method == "/etcdserverpb.Auth/Authenticate" {
				c.auths.Add(1)
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
	}
}

type wtCountingStream struct {
	grpc.ClientStream
	c *wtCounter
}

func (s *wtCountingStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if r, ok := m.(*pb.WatchResponse); ok && err == nil && r.Fragment {
		s.c.fragments.Add(1)
	}
	return err
}

// TestWatchSharesStreams: watches whose contexts carry the same metadata
// share a stream; WithRequireLeader ones get their own; the stream closes
// with its last watch, and a cancel or Close closes the channels.
func TestWatchSharesStreams(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	var cnt wtCounter
	c := wtClient(t, cl.Endpoints(), func(cfg *client.Config) { cfg.DialOptions = cnt.options() })
	writer := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 30*time.Second)

	wctx, wcancel := context.WithCancel(ctx)
	lctx := client.WithRequireLeader(wctx)
	var chans []client.WatchChan
	for i := range 6 {
		chans = append(chans, c.Watch(wctx, fmt.Sprintf("s%d", i)))
		chans = append(chans, c.Watch(lctx, fmt.Sprintf("s%d", i)))
	}
	if n := cnt.streams.Load(); n != 2 {
		t.Fatalf("12 watches opened %d streams, want 2 (one per metadata set)", n)
	}
	for i := range 6 {
		wtApply(ctx, t, writer, []wtWrite{wtPut(fmt.Sprintf("s%d", i), "v")})
	}
	for i, ch := range chans {
		select {
		case r := <-ch:
			if len(r.Events) != 1 || string(r.Events[0].Kv.Key) != fmt.Sprintf("s%d", i/2) {
				t.Fatalf("watch %d got %v", i, r.Events)
			}
		case <-ctx.Done():
			t.Fatalf("watch %d got nothing", i)
		}
	}
	wcancel()
	for i, ch := range chans {
		for range ch {
		}
		_ = i
	}
	// The streams close with their last watch; a new watch opens a new one.
	ch := c.Watch(ctx, "s0")
	if n := cnt.streams.Load(); n != 3 {
		t.Fatalf("%d streams after a new watch, want 3", n)
	}

	// Close of a separate Watcher closes its channels, not the client's.
	w2 := client.NewWatcher(c)
	ch2 := w2.Watch(ctx, "s0")
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch2 {
	}
	if r, ok := <-w2.Watch(ctx, "s0"); ok {
		t.Fatalf("Watch after Close delivered %+v, want a closed channel (as clientv3)", r)
	}
	wtApply(ctx, t, writer, []wtWrite{wtPut("s0", "again")})
	if r := <-ch; len(r.Events) != 1 || string(r.Events[0].Kv.Value) != "again" {
		t.Fatalf("client watch after the other watcher closed: %+v", r)
	}
	c.Close()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after the client closed")
	}
}

// TestWatchSlowConsumer: a watch whose consumer does not read holds up no
// other watch on the same stream; once it reads, it gets every event in
// order, even after being paused on the server for using too much buffer.
func TestWatchSlowConsumer(t *testing.T) {
	// Registered first, so restored after the client has closed.
	t.Cleanup(client.SetWatchBufferLimitForTest(8 << 10))
	pauses := client.WatchPausesForTest()
	cl := etcdtest.StartT(t, etcdtest.Options{})
	var cnt wtCounter
	c := wtClient(t, cl.Endpoints(), func(cfg *client.Config) { cfg.DialOptions = cnt.options() })
	writer := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 60*time.Second)

	slow := c.Watch(ctx, "slow/", client.WithPrefix())
	fast := c.Watch(ctx, "slow/", client.WithPrefix())
	const n = 400
	val := string(make([]byte, 200))
	var lastRev int64
	done := make(chan error, 1)
	go func() {
		var prev int64
		for i := 0; i < n; {
			r, ok := <-fast
			if !ok {
				done <- errors.New("fast watch closed")
				return
			}
			for _, ev := range r.Events {
				if ev.Kv.ModRevision <= prev {
					done <- fmt.Errorf("fast watch went from %d to %d", prev, ev.Kv.ModRevision)
					return
				}
				prev = ev.Kv.ModRevision
				i++
			}
		}
		done <- nil
	}()
	for i := range n {
		lastRev = wtApply(ctx, t, writer, []wtWrite{wtPut(fmt.Sprintf("slow/%04d", i), val)})
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Only now read the slow one: every event, in order, exactly once.
	var revs []int64
	for len(revs) < n {
		select {
		case r, ok := <-slow:
			if !ok || r.Err() != nil {
				t.Fatalf("slow watch ended: %v", r.Err())
			}
			for _, ev := range r.Events {
				revs = append(revs, ev.Kv.ModRevision)
			}
		case <-ctx.Done():
			t.Fatalf("slow watch got %d of %d events", len(revs), n)
		}
	}
	for i := 1; i < len(revs); i++ {
		if revs[i] != revs[i-1]+1 {
			t.Fatalf("slow watch: revision %d after %d", revs[i], revs[i-1])
		}
	}
	if revs[len(revs)-1] != lastRev {
		t.Fatalf("slow watch ended at %d, writer at %d", revs[len(revs)-1], lastRev)
	}
	if n := cnt.streams.Load(); n != 1 {
		t.Fatalf("%d streams, want 1", n)
	}
	if client.WatchPausesForTest() == pauses {
		t.Fatal("the slow watch was never paused; the test proves less than it should")
	}
}

// TestWatchFragments: with WithFragment the server splits a large response;
// the watch delivers it joined, with the same events as the official client.
func TestWatchFragments(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{MaxRequestBytes: 16 << 10})
	var cnt wtCounter
	ours := wtClient(t, cl.Endpoints(), func(cfg *client.Config) { cfg.DialOptions = cnt.options() })
	theirs := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 60*time.Second)

	// The server fragments responses above MaxRequestBytes plus 512 KiB.
	val := string(make([]byte, 12<<10))
	var first, last int64
	for i := range 60 {
		last = wtApply(ctx, t, theirs, []wtWrite{wtPut(fmt.Sprintf("frag/%02d", i), val)})
		if i == 0 {
			first = last
		}
	}
	och := wtAdapt(ctx, ours.Watch(ctx, "frag/", client.WithPrefix(), client.WithRev(first), client.WithFragment()), wtOurs)
	tch := wtAdapt(ctx, theirs.Watch(ctx, "frag/", clientv3.WithPrefix(), clientv3.WithRev(first), clientv3.WithFragment()), wtTheirs)
	og := wtCollect(t, och, last, func() error { return ours.RequestProgress(ctx) })
	tg := wtCollect(t, tch, last, func() error { return theirs.RequestProgress(ctx) })
	wtSameEvents(t, wtEvents(og), wtEvents(tg))
	if len(wtEvents(og)) != 60 {
		t.Fatalf("got %d events, want 60", len(wtEvents(og)))
	}
	if cnt.fragments.Load() == 0 {
		t.Fatal("the server sent no fragment; the test proves nothing")
	}
	big := 0
	for _, r := range og {
		big = max(big, len(r.events))
	}
	if big*(12<<10) < 512<<10 {
		t.Fatalf("largest response has %d events: fragments were not joined", big)
	}
}

// TestWatchProgressNotify: WithProgressNotify gets the server's periodic
// progress responses, as the official client does.
func TestWatchProgressNotify(t *testing.T) {
	t.Cleanup(wtResetProgressInterval)
	cl := etcdtest.StartT(t, etcdtest.Options{Configure: wtProgressEvery(200 * time.Millisecond)})
	ours := wtClient(t, cl.Endpoints())
	theirs := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 30*time.Second)
	rev := wtApply(ctx, t, theirs, []wtWrite{wtPut("pn", "1")})
	och := wtAdapt(ctx, ours.Watch(ctx, "pn", client.WithProgressNotify()), wtOurs)
	tch := wtAdapt(ctx, theirs.Watch(ctx, "pn", clientv3.WithProgressNotify()), wtTheirs)
	o, _ := wtNext(t, och, 10*time.Second)
	th, _ := wtNext(t, tch, 10*time.Second)
	if !o.progress || o.rev != rev || !th.progress || th.rev != rev {
		t.Fatalf("ours %+v, official %+v; want progress responses at %d", o, th, rev)
	}
}

// TestWatchCancelReleases: a canceled watch closes its channel and takes
// its server watch away (no event reaches it), while other watches go on.
func TestWatchCancelReleases(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	c := wtClient(t, cl.Endpoints())
	writer := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 30*time.Second)

	var wg sync.WaitGroup
	keep := c.Watch(ctx, "cr")
	for i := range 20 {
		wctx, wcancel := context.WithCancel(ctx)
		ch := c.Watch(wctx, "cr")
		if i%2 == 0 {
			wcancel()
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i) * time.Millisecond)
				wcancel()
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
			}
		}()
	}
	wg.Wait()
	wtApply(ctx, t, writer, []wtWrite{wtPut("cr", "1")})
	select {
	case r := <-keep:
		if len(r.Events) != 1 {
			t.Fatalf("got %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("the remaining watch got nothing")
	}
	// A watch canceled before it is created returns a closed channel.
	wctx, wcancel := context.WithCancel(ctx)
	wcancel()
	if _, ok := <-c.Watch(wctx, "cr"); ok {
		t.Fatal("watch with a canceled context delivered a response")
	}
}

func wtProgressEvery(d time.Duration) func(*embed.Config) {
	return func(cfg *embed.Config) { cfg.WatchProgressNotifyInterval = d }
}

// wtResetProgressInterval undoes wtProgressEvery, which sets a variable of
// the server package that outlives the server.
func wtResetProgressInterval() { v3rpc.SetProgressReportInterval(10 * time.Minute) }

// TestWatchFromWatchClient: a Watcher built on generated gRPC stubs, with no
// Client, watches as well.
func TestWatchFromWatchClient(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	conn, err := grpc.NewClient(cl.Endpoints()[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	writer := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 30*time.Second)

	w := client.NewWatchFromWatchClient(pb.NewWatchClient(conn), nil)
	defer w.Close()
	ch := w.Watch(ctx, "wc", client.WithPrevKV())
	r1 := wtApply(ctx, t, writer, []wtWrite{wtPut("wc", "1")})
	r2 := wtApply(ctx, t, writer, []wtWrite{wtPut("wc", "2")})
	var revs []int64
	for len(revs) < 2 {
		select {
		case r := <-ch:
			if r.Err() != nil {
				t.Fatal(r.Err())
			}
			for _, ev := range r.Events {
				revs = append(revs, ev.Kv.ModRevision)
				if ev.Kv.ModRevision == r2 && (ev.PrevKv == nil || string(ev.PrevKv.Value) != "1") {
					t.Fatalf("event without its previous value: %v", ev)
				}
			}
		case <-ctx.Done():
			t.Fatalf("got %v", revs)
		}
	}
	if revs[0] != r1 || revs[1] != r2 {
		t.Fatalf("got revisions %v, want [%d %d]", revs, r1, r2)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel open after Close")
	}
}
