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

// TestFailover stops the member behind the first endpoint, brings it back,
// then kills the leader (no leadership transfer), while Gets and Puts run through a client configured
// with all three endpoints. Every Get must succeed (reads are retried on
// another member); every Put either succeeds or fails, and none is applied
// twice.
func TestFailover(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	cli, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "failover/read", "v"); err != nil {
		t.Fatal(err)
	}

	const gets = 200
	var (
		wg      sync.WaitGroup
		getErrs []error
		mu      sync.Mutex
		putOK   = map[string]bool{}
		stopped = make(chan struct{})
	)
	progress := make(chan int, gets)
	wg.Add(2)
	go func() { // readers: 200 Gets, each must succeed
		defer wg.Done()
		for i := range gets {
			gctx, gcancel := context.WithTimeout(ctx, 10*time.Second)
			resp, err := cli.Get(gctx, "failover/read")
			gcancel()
			if err == nil && (len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v") {
				err = fmt.Errorf("unexpected answer %v", resp.Kvs)
			}
			if err != nil {
				mu.Lock()
				getErrs = append(getErrs, fmt.Errorf("get %d: %w", i, err))
				mu.Unlock()
			}
			progress <- i
			time.Sleep(10 * time.Millisecond)
		}
	}()
	go func() { // writer: puts with unique keys until the faults are over
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stopped:
				return
			default:
			}
			key := fmt.Sprintf("failover/put/%04d", i)
			pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := cli.Put(pctx, key, key)
			pcancel()
			mu.Lock()
			putOK[key] = err == nil
			mu.Unlock()
		}
	}()

	waitProgress := func(n int) {
		for i := range progress {
			if i >= n {
				return
			}
		}
	}
	first := cl.Member(0)
	waitProgress(40)
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	waitProgress(80)
	if err := first.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	leader, err := cl.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitProgress(120)
	if err := leader.Kill(); err != nil { // abrupt: no leadership transfer
		t.Fatal(err)
	}
	waitProgress(gets - 1)
	close(stopped)
	wg.Wait()

	for _, err := range getErrs {
		t.Error(err)
	}
	// Read the outcome from the members still running.
	resp, err := cli.Get(ctx, "failover/put/", client.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]bool{}
	for _, kv := range resp.Kvs {
		applied[string(kv.Key)] = true
		if kv.Version != 1 {
			t.Errorf("%s applied %d times", kv.Key, kv.Version)
		}
	}
	okCount := 0
	for key, ok := range putOK {
		if ok {
			okCount++
			if !applied[key] {
				t.Errorf("acknowledged put %s is missing", key)
			}
		}
	}
	if okCount == 0 {
		t.Fatal("no put succeeded")
	}
	t.Logf("%d gets ok, %d of %d puts acknowledged, %d applied", gets-len(getErrs), okCount, len(putOK), len(applied))
}
