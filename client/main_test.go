package client_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// Close and cancel must release what it started. A test binary started with
// etcdtest.ChildEnv set is instead the etcd server of the benchmarks (see
// bench_test.go), so client CPU can be measured apart from the server's.
func TestMain(m *testing.M) {
	if etcdtest.ServeChild() {
		return
	}
	code := m.Run()
	benchServer.Close()
	if code == 0 {
		if err := etcdtest.FindLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
