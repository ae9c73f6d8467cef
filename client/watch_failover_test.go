package client_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// wtRecorder reads a watch channel and records the revision of every event,
// checking as it goes that revisions only grow.
type wtRecorder struct {
	mu      sync.Mutex
	revs    []int64
	members map[uint64]bool
	member  uint64 // member of the last response
	err     error
	changed chan struct{}
	done    chan struct{}
}

func wtRecord(ch client.WatchChan) *wtRecorder {
	r := &wtRecorder{members: map[uint64]bool{}, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for resp := range ch {
			r.mu.Lock()
			if err := resp.Err(); err != nil && r.err == nil {
				r.err = err
			}
			if m := resp.Header.GetMemberId(); m != 0 {
				r.member = m
				r.members[m] = true
			}
			for _, ev := range resp.Events {
				rev := ev.Kv.ModRevision
				if n := len(r.revs); n > 0 && rev <= r.revs[n-1] && r.err == nil {
					r.err = fmt.Errorf("revision %d (%s) after %d: backwards or repeated", rev, ev.Kv.Key, r.revs[n-1])
				}
				r.revs = append(r.revs, rev)
			}
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
		}
	}()
	return r
}

func (r *wtRecorder) snapshot() (revs []int64, member uint64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.revs), r.member, r.err
}

// waitRev waits until the recorder has seen rev, failing the test after d.
func (r *wtRecorder) waitRev(t *testing.T, rev int64, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		revs, _, err := r.snapshot()
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		if len(revs) > 0 && revs[len(revs)-1] >= rev {
			return
		}
		select {
		case <-r.changed:
		case <-r.done:
			t.Fatalf("watch channel closed at %d events, waiting for revision %d", len(revs), rev)
		case <-deadline:
			last := int64(0)
			if len(revs) > 0 {
				last = revs[len(revs)-1]
			}
			t.Fatalf("watch reached revision %d, not %d, within %v", last, rev, d)
		}
	}
}

// TestWatchResumesAfterDrop: when its connection drops, a watch resumes right
// after the last event it delivered: not at the revision it was created at
// (which would repeat an older event), and with no gap or repeat later on.
func TestWatchResumesAfterDrop(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Proxy: true})
	m := cl.Member(0)
	c := wtClient(t, cl.Endpoints())
	writer := wtOfficial(t, []string{m.ListenAddr()})
	ctx := wtCtx(t, 60*time.Second)

	wtApply(ctx, t, writer, []wtWrite{wtPut("rs/old", "x")})
	rec := wtRecord(c.Watch(ctx, "rs/", client.WithPrefix()))
	// Lost before any event: the watch must resume after its creation
	// revision, which is rs/old's.
	m.Proxy().DropConnections()
	first := wtApply(ctx, t, writer, []wtWrite{wtPut("rs/a", "1")})
	rec.waitRev(t, first, 20*time.Second)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
				m.Proxy().DropConnections()
			}
		}
	}()
	var last int64
	for i := range 400 {
		last = wtApply(ctx, t, writer, []wtWrite{wtPut(fmt.Sprintf("rs/%03d", i), "v")})
	}
	close(stop)
	wg.Wait()
	rec.waitRev(t, last, 20*time.Second)
	revs, _, _ := rec.snapshot()
	if revs[0] != first {
		t.Fatalf("first event at revision %d, want %d (rs/a)", revs[0], first)
	}
	for i := 1; i < len(revs); i++ {
		if revs[i] != revs[i-1]+1 {
			t.Fatalf("revision %d follows %d: gap or repeat", revs[i], revs[i-1])
		}
	}
}

// TestWatchFailover watches a prefix on a three-member cluster while a
// writer creates 5,000 keys; the member serving the watch stream is stopped
// and restarted, then the leader. The watch must see every key's revision
// exactly once and in order: every acknowledged write, and every write that
// failed but took effect (found by a final Get).
func TestWatchFailover(t *testing.T) {
	// Slower raft timing than the default keeps elections rare on a loaded
	// machine under the race detector; the stops below hand leadership
	// over, so they do not wait for an election timeout.
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, TickMs: 50, ElectionMs: 500})
	c := wtClient(t, cl.Endpoints())
	writer := wtOfficial(t, cl.Endpoints())
	ctx := wtCtx(t, 180*time.Second)

	total := int64(5000)
	if wtRace {
		total = 1000
	}
	ch := c.Watch(ctx, "fo/", client.WithPrefix(), client.WithCreatedNotify())
	created := <-ch
	if !created.Created {
		t.Fatalf("first response %+v, want the created one", created)
	}
	rec := wtRecord(ch)

	var (
		next    atomic.Int64
		ackMu   sync.Mutex
		acked   = map[string]int64{}
		nacked  atomic.Int64
		failed  atomic.Int64
		lastErr atomic.Value
		writers sync.WaitGroup
	)
	for range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for {
				i := next.Add(1) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				key := fmt.Sprintf("fo/%05d", i)
				// Create-if-absent: a write repeated by a retry cannot
				// make a second revision.
				wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
				resp, err := writer.Txn(wctx).
					If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
					Then(clientv3.OpPut(key, "v")).Commit()
				wcancel()
				if err != nil || !resp.Succeeded {
					failed.Add(1)
					if err != nil {
						lastErr.Store(err.Error())
					}
					continue
				}
				ackMu.Lock()
				acked[key] = resp.Header.Revision
				ackMu.Unlock()
				nacked.Add(1)
			}
		}()
	}
	// waitAcked waits for n acknowledged writes, or for the writer to have
	// tried every key (writes fail while a member is down, and are only
	// tolerated).
	waitAcked := func(n int64) {
		t.Helper()
		for nacked.Load() < n && next.Load() < total {
			if ctx.Err() != nil {
				t.Fatalf("only %d writes acknowledged (%d failed, last error %v), waiting for %d",
					nacked.Load(), failed.Load(), lastErr.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	memberByID := func(id uint64) *etcdtest.Member {
		for _, m := range cl.Members() {
			if m.ID() == id {
				return m
			}
		}
		t.Fatalf("no member has id %x", id)
		return nil
	}

	waitAcked(total / 5)
	_, id, _ := rec.snapshot()
	if id == 0 {
		id = created.Header.MemberId
	}
	served := memberByID(id)
	t.Logf("stopping %s, which serves the watch", served.Name())
	if err := served.Stop(); err != nil {
		t.Fatal(err)
	}
	waitAcked(total * 2 / 5)
	if err := served.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitAcked(total * 3 / 5)
	leader, err := cl.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stopping the leader %s", leader.Name())
	if err := leader.Stop(); err != nil {
		t.Fatal(err)
	}
	waitAcked(total * 7 / 10)
	if err := leader.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	writers.Wait()

	var final *clientv3.GetResponse
	for final == nil {
		gctx, gcancel := context.WithTimeout(ctx, 3*time.Second)
		resp, err := writer.Get(gctx, "fo/", clientv3.WithPrefix())
		gcancel()
		if err == nil {
			final = resp
		} else if ctx.Err() != nil {
			t.Fatalf("final get: %v", err)
		}
	}
	want := make([]int64, 0, len(final.Kvs))
	for _, kv := range final.Kvs {
		if kv.ModRevision != kv.CreateRevision {
			t.Fatalf("key %s written twice", kv.Key)
		}
		if r, ok := acked[string(kv.Key)]; ok && r != kv.ModRevision {
			t.Fatalf("key %s acknowledged at %d, stored at %d", kv.Key, r, kv.ModRevision)
		}
		want = append(want, kv.ModRevision)
	}
	if len(acked) > len(want) {
		t.Fatalf("%d writes acknowledged, %d keys stored", len(acked), len(want))
	}
	slices.Sort(want)
	rec.waitRev(t, want[len(want)-1], 20*time.Second)
	got, _, err := rec.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("watch saw %d revisions, the store has %d keys (first difference at %d)",
			len(got), len(want), firstDiff(got, want))
	}
	rec.mu.Lock()
	nmembers := len(rec.members)
	rec.mu.Unlock()
	if nmembers < 2 {
		t.Fatalf("the watch was served by %d member(s); it never moved", nmembers)
	}
	t.Logf("%d keys written (%d acknowledged, %d failed, last error %v), %d events watched from %d members",
		len(want), len(acked), failed.Load(), lastErr.Load(), len(got), nmembers)
	if int64(len(acked)) < total/2 {
		t.Fatalf("only %d of %d writes acknowledged: the cluster was down too long to test much", len(acked), total)
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWatchRequireLeader cuts a member off from the others. A
// WithRequireLeader watch of a client that knows only that member ends with
// ErrNoLeader; one whose client knows the other members moves to one of them
// and misses nothing.
func TestWatchRequireLeader(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	leader := cl.WaitLeader(t)
	var m *etcdtest.Member
	var others []string
	for _, mm := range cl.Members() {
		if mm != leader && m == nil {
			m = mm
		} else {
			others = append(others, mm.Endpoint())
		}
	}
	ctx := wtCtx(t, 120*time.Second)
	alone := wtClient(t, []string{m.Endpoint()})
	moving := wtClient(t, []string{m.Endpoint()})
	writer := wtOfficial(t, others)

	lctx := client.WithRequireLeader(ctx)
	ach := alone.Watch(lctx, "rl/", client.WithPrefix())
	mch := moving.Watch(lctx, "rl/", client.WithPrefix(), client.WithCreatedNotify())
	if r := <-mch; !r.Created || r.Header.MemberId != m.ID() {
		t.Fatalf("first response %+v, want created on %s", r, m.Name())
	}
	moving.SetEndpoints(cl.Endpoints()...)
	rec := wtRecord(mch)

	if err := cl.Isolate(m); err != nil {
		t.Fatal(err)
	}
	defer cl.Heal()

	// Create-if-absent, repeated until it is known to have happened: a
	// write that timed out may or may not have been applied.
	for i := range 30 {
		key := fmt.Sprintf("rl/%02d", i)
		for {
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := writer.Txn(wctx).
				If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, "v")).Commit()
			wcancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("put %s: %v", key, err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	final, err := writer.Get(ctx, "rl/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortAscend))
	if err != nil {
		t.Fatal(err)
	}
	var revs []int64
	for _, kv := range final.Kvs {
		revs = append(revs, kv.ModRevision)
	}
	if len(revs) != 30 {
		t.Fatalf("%d keys stored, want 30", len(revs))
	}

	select {
	case r, ok := <-ach:
		if !ok {
			t.Fatal("watch on the isolated member closed without an error")
		}
		if r.Err() != rpctypes.ErrNoLeader || !r.Canceled {
			t.Fatalf("watch on the isolated member: %+v (err %v), want ErrNoLeader", r, r.Err())
		}
		if _, ok := <-ach; ok {
			t.Fatal("channel open after ErrNoLeader")
		}
	case <-ctx.Done():
		t.Fatal("watch on the isolated member hangs")
	}

	rec.waitRev(t, revs[len(revs)-1], 30*time.Second)
	got, member, err := rec.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, revs) {
		t.Fatalf("moved watch saw %v, want %v", got, revs)
	}
	if member == m.ID() {
		t.Fatal("the watch still reports the isolated member")
	}
}

// TestWatchAuth: a watch's stream carries the token; when the server no
// longer knows the token (here: the member restarted, forgetting its simple
// tokens) the watch logs in again and goes on without reporting an error.
// A watch on a key the user may not read ends with ErrPermissionDenied.
func TestWatchAuth(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := wtCtx(t, 60*time.Second)
	setup := wtOfficial(t, cl.Endpoints())
	steps := []func() error{
		func() error { _, err := setup.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := setup.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := setup.UserAdd(ctx, "reader", "readerpw"); return err },
		func() error { _, err := setup.RoleAdd(ctx, "r"); return err },
		func() error {
			_, err := setup.RoleGrantPermission(ctx, "r", "au/", clientv3.GetPrefixRangeEnd("au/"), clientv3.PermissionType(clientv3.PermRead))
			return err
		},
		func() error { _, err := setup.UserGrantRole(ctx, "reader", "r"); return err },
		func() error { _, err := setup.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}
	root := wtOfficial(t, cl.Endpoints(), func(cfg *clientv3.Config) { cfg.Username, cfg.Password = "root", "rootpw" })
	var cnt wtCounter
	c := wtClient(t, cl.Endpoints(), func(cfg *client.Config) {
		cfg.Username, cfg.Password = "reader", "readerpw"
		cfg.DialOptions = cnt.options()
	})

	rec := wtRecord(c.Watch(ctx, "au/", client.WithPrefix()))
	rev, err := root.Put(ctx, "au/1", "v")
	if err != nil {
		t.Fatal(err)
	}
	rec.waitRev(t, rev.Header.Revision, 10*time.Second)

	denied := c.Watch(ctx, "secret/", client.WithPrefix())
	r, ok := <-denied
	if !ok || !r.Canceled || r.Err() != rpctypes.ErrPermissionDenied {
		t.Fatalf("watch without permission: %+v (err %v), want ErrPermissionDenied", r, r.Err())
	}
	if _, ok := <-denied; ok {
		t.Fatal("channel open after ErrPermissionDenied")
	}

	logins := cnt.auths.Load()
	m := cl.Member(0)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	var rev2 *clientv3.PutResponse
	for rev2 == nil {
		if rev2, err = root.Put(ctx, "au/2", "v"); err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	rec.waitRev(t, rev2.Header.Revision, 20*time.Second)
	if cnt.auths.Load() == logins {
		t.Fatal("the watch went on without logging in again: the old token was not refused, the test proves nothing")
	}
	revs, _, err := rec.snapshot()
	if err != nil || !slices.Equal(revs, []int64{rev.Header.Revision, rev2.Header.Revision}) {
		t.Fatalf("watch saw %v (err %v)", revs, err)
	}
}
