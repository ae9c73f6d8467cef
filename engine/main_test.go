package engine_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// shared is the package's etcd cluster, started by the first test that
// needs one and closed by TestMain: tests put their keys under their own
// names.
var shared struct {
	once    sync.Once
	cluster *etcdtest.Cluster
	err     error
}

func sharedCluster(t *testing.T) *etcdtest.Cluster {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), etcdtest.StartTimeout)
		defer cancel()
		shared.cluster, shared.err = etcdtest.Start(ctx, etcdtest.Options{})
	})
	if shared.err != nil {
		t.Fatalf("etcd: %v", shared.err)
	}
	return shared.cluster
}

// TestMain fails the package's tests if a goroutine outlives them: a run
// must release everything it started (watches, clients, commands).
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cluster != nil {
		if err := shared.cluster.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "closing etcd: %v\n", err)
		}
	}
	if code == 0 {
		if err := etcdtest.FindLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
