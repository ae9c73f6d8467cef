package bench_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestMain stops the server a standalone benchmark run started, then fails
// the run if any goroutine outlived it.
func TestMain(m *testing.M) {
	code := m.Run()
	stopServer()
	if code == 0 {
		if err := etcdtest.FindLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
