package bindings_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestMain fails the package's tests if any goroutine outlives them, and
// stops the shared etcd server first. A test binary started with one of the
// child environment variables of bench_test.go is instead a child process
// of a benchmark.
func TestMain(m *testing.M) {
	if etcdtest.ServeChild() || runChild() {
		return
	}
	code := m.Run()
	shared.stop()
	benchServer.Close()
	if code == 0 {
		if err := etcdtest.FindLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// shared is one etcd server for the package's tests, started on first use.
var shared sharedServer

type sharedServer struct {
	once sync.Once
	c    etcdtest.Server
	err  error
}

func (s *sharedServer) stop() {
	if s.c != nil {
		s.c.Close()
	}
}

// sharedCluster returns the package's etcd server: a process of the etcd
// binary etcdtest.ExternalEnv names, when set (the Lua files then run
// against that etcd version).
func sharedCluster(t testing.TB) etcdtest.Server {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), etcdtest.StartTimeout)
		defer cancel()
		shared.c, shared.err = etcdtest.StartServer(ctx, etcdtest.ServerOptions{
			// Progress notifications every 10 minutes, etcd's default, would
			// leave on_progress untestable.
			WatchProgressNotifyInterval: 300 * time.Millisecond,
		})
	})
	if shared.err != nil {
		t.Fatalf("start etcd: %v", shared.err)
	}
	return shared.c
}
