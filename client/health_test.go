package client_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// hungReadTimeout is the deadline of each read in the hung-member tests:
// far above the ~1 s in which a hung member is found, so that a read only
// runs out of it by waiting on that member.
const hungReadTimeout = 15 * time.Second

func hungClient(t *testing.T, cl *etcdtest.Cluster) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readLoop runs reads, each with the given timeout, from n goroutines until
// stop closes and returns the errors of those that failed and the ids of
// the members that answered.
func readLoop(c *client.Client, n int, timeout time.Duration, stop <-chan struct{}) (errs []error, answered map[uint64]int) {
	var mu sync.Mutex
	answered = map[uint64]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				resp, err := c.Get(ctx, "hung/k")
				cancel()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					answered[resp.Header.MemberId]++
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	return errs, answered
}

// TestHungMemberReadsMove pauses one member behind its proxy (it accepts
// connections and never answers, as a SIGSTOPped member) while reads run:
// every read must succeed well within its deadline, those sent to the hung
// member before it was found hung included, and once the member answers
// again it must take reads again.
func TestHungMemberReadsMove(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Proxy: true})
	c := hungClient(t, cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, "hung/k", "v"); err != nil {
		t.Fatal(err)
	}
	hung := cl.Member(1)

	hung.Proxy().Pause()
	stop := make(chan struct{})
	time.AfterFunc(3*time.Second, func() { close(stop) })
	errs, answered := readLoop(c, 4, hungReadTimeout, stop)
	for i, err := range errs {
		if i == 5 {
			break
		}
		t.Errorf("read failed while one member of three hung: %v", err)
	}
	t.Logf("reads answered by member while %s hung: %v", hung.Name(), answered)

	hung.Proxy().Unpause()
	for {
		resp, err := c.Get(ctx, "hung/k")
		if err != nil {
			t.Fatalf("read after unpause: %v", err)
		}
		if resp.Header.MemberId == hung.ID() {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("member %s never answered a read after it recovered", hung.Name())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHungMemberWritesNotResent writes unique values while one member
// hangs: a write sent to it may be applied late (its bytes wait in the
// paused proxy) or not at all, but never twice, since the client does not
// move a write that may have reached the server.
func TestHungMemberWritesNotResent(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Proxy: true})
	c := hungClient(t, cl)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start, err := c.Put(ctx, "hungw/start", "")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	// Writes run while a member is paused three times: a pause that falls
	// between a write reaching the member and its answer leaves a write
	// applied but unanswered, which a client that moved writes would send
	// again elsewhere.
	hung := cl.Member(2).Proxy()
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wctx, wcancel := context.WithTimeout(ctx, hungReadTimeout)
				_, err := c.Put(wctx, fmt.Sprintf("hungw/%d", g), fmt.Sprintf("%d-%d", g, i))
				wcancel()
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		hung.Pause()
		time.Sleep(2 * time.Second)
		hung.Unpause()
	}
	close(stop)
	wg.Wait()
	// A write delivered late is applied now; one more write per key after
	// it marks the end.
	for g := range 4 {
		if _, err := c.Put(ctx, fmt.Sprintf("hungw/%d", g), "end"); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int64{}
	w := c.Watch(ctx, "hungw/", client.WithPrefix(), client.WithRev(start.Header.Revision+1))
	ends := 0
	for ends < 4 {
		resp, ok := <-w
		if !ok || resp.Err() != nil {
			t.Fatalf("watch ended: %v", resp.Err())
		}
		for _, ev := range resp.Events {
			v := string(ev.Kv.Value)
			if v == "end" {
				ends++
				continue
			}
			if rev, dup := seen[v]; dup {
				t.Errorf("value %s written twice: revisions %d and %d", v, rev, ev.Kv.ModRevision)
			}
			seen[v] = ev.Kv.ModRevision
		}
	}
	t.Logf("%d writes applied, %d failed (unknown outcome)", len(seen), failed)
}

// sentTo is a gRPC stats handler that counts the calls sent to each
// address, by method.
type sentTo struct {
	mu    sync.Mutex
	count map[string]int // "addr method"
}

func (s *sentTo) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (s *sentTo) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (s *sentTo) HandleConn(context.Context, stats.ConnStats) {}

func (s *sentTo) HandleRPC(_ context.Context, st stats.RPCStats) {
	if h, ok := st.(*stats.OutHeader); ok && h.Client && h.RemoteAddr != nil {
		s.mu.Lock()
		s.count[h.RemoteAddr.String()+" "+h.FullMethod]++
		s.mu.Unlock()
	}
}

// reachedAll reports whether method was sent to every endpoint.
func (s *sentTo) reachedAll(endpoints []string, method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ep := range endpoints {
		if s.count[ep+" "+method] == 0 {
			return false
		}
	}
	return true
}

func (s *sentTo) reset() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.count
	s.count = map[string]int{}
	return out
}

// TestHungMemberSkipped: a few seconds after a member stopped answering,
// no read is sent to it any more; only the probes that watch for its
// return are.
func TestHungMemberSkipped(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Proxy: true})
	sent := &sentTo{count: map[string]int{}}
	c, err := client.New(client.Config{
		Endpoints:   cl.Endpoints(),
		DialTimeout: 30 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithStatsHandler(sent)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Reads go round the members only once the client is connected to
	// each: New does not wait for all of them. Pausing a member the
	// client never reached would test nothing (no read, no probe).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !sent.reachedAll(cl.Endpoints(), "/etcdserverpb.KV/Range") {
		if _, err := c.Get(ctx, "hung/warm"); err != nil {
			t.Fatalf("reads before any member hung: %v", err)
		}
	}
	sent.reset()
	hung := cl.Member(0)
	hung.Proxy().Pause()
	defer hung.Proxy().Unpause()

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Reads that end after a second keep the load going to every
		// member the client picks, whether or not that member answers.
		readLoop(c, 4, time.Second, stop)
	}()
	// Detection takes about a second; three leave room for a loaded
	// machine.
	time.Sleep(3 * time.Second)
	before := sent.reset()
	time.Sleep(2 * time.Second)
	after := sent.reset()
	close(stop)
	hung.Proxy().Unpause()
	<-done

	toHung := func(m map[string]int, method string) int { return m[hung.Endpoint()+" "+method] }
	const rangeMethod, probeMethod = "/etcdserverpb.KV/Range", "/grpc.health.v1.Health/Check"
	t.Logf("first 3 s: %d reads sent to the hung member; next 2 s: %d reads, %d probes; all sent: %v",
		toHung(before, rangeMethod), toHung(after, rangeMethod), toHung(after, probeMethod), after)
	if n := toHung(after, rangeMethod); n != 0 {
		t.Errorf("%d reads were sent to the hung member after it was found hung", n)
	}
	if toHung(after, probeMethod) == 0 {
		t.Errorf("the hung member was not probed")
	}
	total := 0
	for k, n := range after {
		if strings.HasSuffix(k, rangeMethod) {
			total += n
		}
	}
	if total == 0 {
		t.Errorf("no read was sent to the other members")
	}
}
