// Package scanchild holds, in its test files only, the child processes of
// bindings' BenchmarkScan: a scan with etcd.scan through the engine, and one
// Get WithPrefix with the official client. Each child reports its peak RSS.
// The children live here, not in the bindings test binary, because that
// binary links an etcd server (tests/etcdtest), whose code and start-up
// add some 24 MiB of resident memory to any process that runs it; this test
// binary links what an embedding program or the etcdscript command links
// (the engine and the client), plus the official client for the baseline.
//
// Run without its environment variable, the test binary does nothing.
package scanchild
