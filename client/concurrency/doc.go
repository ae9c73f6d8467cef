// Package concurrency builds distributed locks, leader elections and
// software transactional memory (STM) on etcd, with the API of the official
// go.etcd.io/etcd/client/v3/concurrency package: a program ports by
// changing the imports.
//
// A Session is a lease kept alive in the background; everything a session
// holds (lock and election keys) is attached to its lease, so it vanishes
// when the session's process dies or loses the cluster for longer than the
// TTL. A Mutex and an Election queue their contenders by the create revision
// of one key per session under a prefix: the lowest holds the lock or the
// leadership, the others each wait for the deletion of the key just ahead
// of their own.
//
// The key layout is the official package's (prefix + "/" + lease ID in hex),
// so programs using either client contend on the same locks and elections.
//
// Differences from the official package, all in the direction of safety:
//
//   - Lock, TryLock and Campaign refuse to start on a session that has
//     already ended, and after waiting they check that the session is still
//     alive and their key still the one they created. If not, they delete
//     their key (if it is still there) and return ErrSessionExpired, instead
//     of reporting a lock or leadership whose lease may be gone.
//   - A wait is abandoned as soon as the session ends, rather than running
//     until the context ends.
//   - Waits survive a lost member, a leader change and a compaction: the
//     watches used to wait are resumed or made again instead of failing.
//   - Observe keeps observing across lost members and leader changes, and
//     never sends the same leader value twice.
//   - WithNamespace puts a session's locks and elections under a prefix
//     without changing the client, which may be shared (the official way,
//     namespacing the client's KV, Watcher and Lease fields, works too).
//   - Bad input (a nil context, a nil session, a TTL that is not positive,
//     a nil client or apply function or an unknown isolation level for
//     NewSTM) is an error wrapping client.ErrInvalidArgument, never a
//     panic. The sync.Locker of NewLocker still panics when locking fails,
//     since sync.Locker has no way to return an error.
//   - NewSTM runs the apply function on the calling goroutine, so a panic
//     of the function reaches the caller (the official package runs it on
//     a goroutine of its own, where a panic ends the program), and an STM
//     kept past NewSTM does nothing. Get(k1, k2, ...) reads every key not
//     yet read in one round trip; the official Get stops at the first key
//     it has already read.
//
// NewSTM runs a function that reads keys with Get and stages writes with
// Put and Del, and commits the writes in one transaction only if nothing it
// depends on changed meanwhile (see Isolation); on a conflict it runs the
// function again on fresh data. Under the default SerializableSnapshot,
// concurrent STMs act as if run one at a time.
//
// Holding a lock is never a guarantee by itself: a session can end while
// its holder works, and the holder learns it only later. Guard the writes
// made under a lock with Mutex.IsOwner (or an election's key and revision)
// in the same transaction, so a former holder's writes fail:
//
//	txn := cli.Txn(ctx).If(m.IsOwner()).Then(clientv3.OpPut("config", v))
//	resp, err := txn.Commit()
//	if err == nil && !resp.Succeeded {
//		// the lock was lost: the write did not happen
//	}
package concurrency
