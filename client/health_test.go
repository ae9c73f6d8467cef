package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
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

// readLoop runs reads from n goroutines until stop closes and returns the
// errors of those that failed and the ids of the members that answered.
func readLoop(c *client.Client, n int, stop <-chan struct{}) (errs []error, answered map[uint64]int) {
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
				ctx, cancel := context.WithTimeout(context.Background(), hungReadTimeout)
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
	errs, answered := readLoop(c, 4, stop)
	for i, err := range errs {
		if i == 5 {
			break
		}
		t.Errorf("read failed while one member of three hung: %v", err)
	}
	if answered[hung.ID()] != 0 {
		t.Errorf("the paused member answered %d reads", answered[hung.ID()])
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
	cl.Member(2).Proxy().Pause()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	deadline := time.Now().Add(3 * time.Second)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
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
	wg.Wait()
	cl.Member(2).Proxy().Unpause()
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
