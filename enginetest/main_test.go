package enginetest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
}
