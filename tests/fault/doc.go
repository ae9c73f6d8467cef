// Package fault holds the fault suite of the Go client and the checks that
// prove it correct under faults: it runs several clients against a real
// three-member etcd cluster (tests/etcdtest) while members are killed,
// stopped, restarted, blackholed, paused, cut off from their clients and
// partitioned from their peers, and records everything the clients saw.
//
// The recorded history is then checked:
//
//   - linearizability of every put, get, delete and compare-and-swap, with
//     the porcupine checker and a key-value model partitioned by key (a call
//     that failed or timed out may or may not have taken effect, so it is
//     recorded with an unknown outcome that never returns);
//   - real-time order of revisions across keys (an operation that started
//     after another one ended never sees an older revision);
//   - no acknowledged write lost: each one is in the store's history at the
//     revision its response named, and the final state is the last write;
//   - watches exactly once and in order: a watcher on the prefix receives
//     every revision once, in order, with no gap, and every acknowledged
//     write with its key, value and revision;
//   - reads keep succeeding while a quorum runs, and a lease kept alive
//     across the faults is still alive at the end;
//   - a hung member (a paused proxy: connections accepted, nothing
//     answered) holds reads only until the client finds it hung: read
//     latency is measured against the official client in the same run,
//     and writes sent to it are never applied twice.
//
// The checkers are tested themselves on recorded histories with injected
// faults (a stale read, a duplicated or missing watch event), so a checker
// that could not fail would be noticed. The package has no code of its own
// beyond this description: everything lives in its tests.
package fault
