// Package bench holds the pieces of the benchmark harness that are worth
// testing on their own: reading `go test -bench` output, pairing our
// implementation with its baseline, and summarising repeated runs.
//
// The harness itself is bench/cmd/benchrun, started by bench/run.sh; it
// rebuilds what it needs, runs every benchmark of the project side by side
// and writes BENCHMARKS.md. Its test file putloop_test.go holds the
// baseline that no other package has: the best plain Go bulk load on the
// official client.
//
// # Naming benchmarks so that the report pairs them
//
// A benchmark is compared with its baseline when their names differ in one
// path element only, and that element names the implementation: either
// key=value (BenchmarkKV/client=ours/put and BenchmarkKV/client=official/put)
// or a bare word (BenchmarkScan/ours and BenchmarkScan/official). The words
// for our side are in OursWords, the words for baselines in BaselineWords;
// any other value of the same key (client=raw) is shown beside them as a
// further reference.
//
// A benchmark that measures both sides itself (alternating them, or in
// child processes) reports a pair of units instead: word-measure, with a
// word of UnitOurs and one of UnitBase and the same measure (lua-ns/pair
// and go-ns/pair, scan-peak-MiB and get-peak-MiB). Everything else is
// listed alone.
package bench
