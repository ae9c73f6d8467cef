package tests

import (
	"testing"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
}
