package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// leaseClient returns a client of this package on eps, closed when the test
// ends (before the cluster, which was started earlier).
func leaseClient(t *testing.T, eps []string, configure ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{Endpoints: eps, DialTimeout: 10 * time.Second}
	for _, f := range configure {
		f(&cfg)
	}
	cli, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// leaseOracle returns an official clientv3 client on eps, to compare answers
// with and to look at the cluster independently of the client under test.
func leaseOracle(t *testing.T, eps []string, configure ...func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()}
	for _, f := range configure {
		f(&cfg)
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("clientv3.New: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func leaseCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// leaseAlive asks the oracle for the lease's remaining TTL.
func leaseAlive(t *testing.T, oracle *clientv3.Client, id client.LeaseID) int64 {
	t.Helper()
	resp, err := oracle.TimeToLive(leaseCtx(t, 20*time.Second), clientv3.LeaseID(id))
	if err != nil {
		t.Fatalf("oracle TimeToLive(%x): %v", id, err)
	}
	return resp.TTL
}

// awaitClose waits for ch to close, discarding renewals, and returns how
// many it received; it fails the test if ch is still open after d.
func awaitClose(t *testing.T, ch <-chan *client.LeaseKeepAliveResponse, d time.Duration) int {
	t.Helper()
	timeout := time.After(d)
	n := 0
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return n
			}
			n++
		case <-timeout:
			t.Fatalf("keepalive channel still open after %v", d)
		}
	}
}

// drainFor reads renewals from ch for d and returns them; it fails the test
// if ch closes meanwhile.
func drainFor(t *testing.T, ch <-chan *client.LeaseKeepAliveResponse, d time.Duration) []*client.LeaseKeepAliveResponse {
	t.Helper()
	timeout := time.After(d)
	var got []*client.LeaseKeepAliveResponse
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				t.Fatalf("keepalive channel closed after %d renewals: %v", len(got), client.KeepAliveError(ch))
			}
			got = append(got, r)
		case <-timeout:
			return got
		}
	}
}

func startLeaseCluster(t *testing.T, opts etcdtest.Options) *etcdtest.Cluster {
	t.Helper()
	return etcdtest.StartT(t, opts)
}
