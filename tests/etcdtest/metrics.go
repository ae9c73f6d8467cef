package etcdtest

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// walFsyncMetric counts etcd's fdatasyncs of its write-ahead log; etcd
// observes it only for the syncs it makes, none with fsync off.
const walFsyncMetric = "etcd_disk_wal_fsync_duration_seconds"

// WALFsyncs returns how many times the etcd servers of this process have
// synced their write-ahead logs so far, from etcd's metrics in the default
// prometheus registry: a test compares it before and after some writes.
func WALFsyncs() (uint64, error) {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() == walFsyncMetric {
			var n uint64
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
			return n, nil
		}
	}
	return 0, errors.New("etcdtest: " + walFsyncMetric + " is not registered")
}
