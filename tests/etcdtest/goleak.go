package etcdtest

import (
	"time"

	"go.uber.org/goleak"
)

// GoleakOptions returns the goleak options a TestMain needs when its tests
// start clusters with this package: they ignore goroutines that etcd or its
// dependencies start once per process and never stop. Use it as
//
//	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
func GoleakOptions() []goleak.Option {
	return []goleak.Option{}
}

// leakPatience is how long FindLeaks keeps looking. An etcd member's peer
// listener sets a 5 s deadline on every read, and an HTTP connection it
// served (a /version probe from another member, say) can sit in that read
// after the member is closed until the deadline passes. goleak.Find alone
// gives up after about a second.
const leakPatience = 10 * time.Second

// FindLeaks is goleak.Find with GoleakOptions and opts, asked again until
// it finds nothing or leakPatience has passed: a TestMain whose tests start
// and stop members calls it after m.Run.
func FindLeaks(opts ...goleak.Option) error {
	opts = append(GoleakOptions(), opts...)
	deadline := time.Now().Add(leakPatience)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}
