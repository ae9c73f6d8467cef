package fault

import (
	"testing"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives its tests: every
// client, watcher, keepalive and cluster of the suite must be released.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
}
