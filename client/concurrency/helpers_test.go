package concurrency_test

import (
	"context"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// env is one cluster with a client of this module and an official client
// (the oracle) on it.
type env struct {
	c      *etcdtest.Cluster
	cli    *client.Client
	oracle *clientv3.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := etcdtest.StartT(t, etcdtest.Options{})
	return &env{c: c, cli: newClient(t, c), oracle: newOracle(t, c)}
}

func newClient(t *testing.T, c *etcdtest.Cluster) *client.Client {
	t.Helper()
	cli, err := client.New(client.Config{Endpoints: c.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func newOracle(t *testing.T, c *etcdtest.Cluster) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("clientv3.New: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// session starts a session that is closed when the test ends.
func (e *env) session(t *testing.T, opts ...concurrency.SessionOption) *concurrency.Session {
	t.Helper()
	s, err := concurrency.NewSession(e.cli, opts...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// keys lists the keys under pfx in create-revision order, read with the
// oracle.
func (e *env) keys(t *testing.T, pfx string) []string {
	t.Helper()
	resp, err := e.oracle.Get(testCtx(t, 10*time.Second), pfx, clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

// waitKeys waits until pfx holds n keys.
func (e *env) waitKeys(t *testing.T, pfx string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ks := e.keys(t, pfx)
		if len(ks) == n {
			return ks
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %d keys", pfx, ks, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// revoke revokes a session's lease with the oracle, as another process
// (or the lease's expiry) would end it.
func (e *env) revoke(t *testing.T, s *concurrency.Session) {
	t.Helper()
	if _, err := e.oracle.Revoke(testCtx(t, 10*time.Second), clientv3.LeaseID(s.Lease())); err != nil {
		t.Fatal(err)
	}
}

// result waits for an error from a goroutine.
func result(t *testing.T, ch <-chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("no result after %v", d)
		return nil
	}
}

// pending checks that a goroutine has not returned yet.
func pending(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned early: %v", what, err)
	case <-time.After(300 * time.Millisecond):
	}
}
