// Package bindings is the etcd Lua module of docs/lua.md: the
// global `etcd` (also require("etcd")) of a script run.
//
// A binding checks its arguments (wrong type or count, an unknown option
// key: invalid_argument naming the function and the argument; an empty key:
// empty_key), converts options to client OpOptions, calls the client with the
// run's context, converts the result to Lua tables and, on error, raises a
// luart error object whose code comes from client.Classify. There is no etcd
// logic here beyond that.
//
// A Module is one instance of the module for one run. It is built over a
// Backend, so that a caller can substitute what the calls go to: the
// migration runner wraps the KV of the run's client in a fencing or
// buffering KV and gives scripts the very same module as their facade `m`.
//
//	mod := bindings.New(rt, bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }})
//	defer mod.Close()
//	mod.Install(L) // global etcd and require("etcd")
//
// Close ends everything the module started for the run: watches, lease
// keepalives, lock and election sessions, open scans, and the clients made by
// etcd.connect. The engine calls it after the run's event loop is done.
//
// etcd.connect{...} makes another client through Backend.Dial (client.New
// when nil), applies the namespace option with client/namespace, and returns
// a client object with every call as a method (c:get(k), c:txn(), ...), its
// leases as c.lease.grant(ttl), and c:close(). Clients made by connect are
// closed by Close at the latest. Besides the options of docs/lua.md it takes
// cacert, cert, key and insecure_skip_tls_verify, as etcdctl's flags (files
// are refused in a sandboxed run).
//
// Calls that wait by design (etcd.lock, election:campaign, etcd.wait, watches,
// lease keepalives) are not bound by the per-call timeout; they take their own
// timeout option and the run's context. Every other call runs under
// Runtime.CallContext (or the command_timeout of the client object).
//
// # Where docs/lua.md leaves room
//
//   - Watches with a callback hold the run's loop while they live; pulling
//     watches (no callback) and lease keepalives do not: nothing could pull
//     from a watch once the main chunk has returned, and a keepalive must not
//     keep a finished script running. etcd.wait returns true when no watch
//     is left, false when its time passed first. etcd.wait(seconds)
//     returns before its time once nothing is left that could call back
//     (no watch, no keepalive, nothing queued); time.sleep always sleeps
//     its time.
//   - A watch's timeout option ends it quietly, as w:cancel() would. An
//     error raised by a callback is raised from the dispatch point and the
//     watch goes on; on_error receives errors that end the watch.
//   - Watches are made with client.WithRequireLeader: a watch on a member
//     cut off from the rest of the cluster moves to another member (from
//     the revision after its last event, as after a lost connection)
//     instead of waiting there, seeing nothing. When no member has a leader
//     for a few seconds (a lost quorum), the watch ends with no_leader.
//   - etcd.scan streams the range (client.RangeReader, or KV.GetStream for a
//     host's own KV; etcd 3.7), which reads the whole range at one revision
//     with memory bounded by about one of the server's chunks;
//     page_size is the page of the fallback that pages with Range at the
//     revision of the first page, used when the server has no stream (etcd
//     3.5 and 3.6: client.RangeReader pages by itself) or a host's KV
//     refuses GetStream. A scan of the whole key space ("" with prefix or
//     from_key) pages from its first key too. Its sort option accepts only ascending
//     key order, and count_only is refused. Waiting for each chunk is bounded
//     by the per-call timeout.
//   - The iterator etcd.scan returns is a callable object, so `for kv in
//     etcd.scan(...)` works as with a function, with one field: it.revision,
//     the revision the whole scan reads at (the rev option when given),
//     known before the first key, so that an export can record it and a
//     watch from it.revision + 1 misses nothing. (A second return value
//     would become the generic for's state argument.) Over the client's
//     KV the scan pins that revision with one count-only read of its first
//     key before it streams.
//   - An empty key means the whole key space for reads with prefix or
//     from_key (range, scan, watch, op.get, cmp with prefix); it raises
//     empty_key everywhere else, delete with prefix included.
//   - put_many also takes batch_bytes (default just under the server's 1.5
//     MiB request limit). A key repeated within one batch starts a new batch
//     instead of failing; with concurrency above 1, batches may commit in
//     any order. An empty input returns {written = 0, revision = 0}.
//   - Lease TTLs with a fraction are rounded up to whole seconds. l:ttl()
//     has keys only when asked for; l:keepalive returns l. Lease ids are
//     rendered as 16 lowercase hex digits, zero-padded as etcdctl prints
//     them (%016x), wherever they reach Lua (l.id, kv.lease,
//     etcd.lease.list, tostring of a compare, error messages); as input,
//     fewer digits, "0" (no lease) and "0x..." are accepted; numbers are
//     refused. Member and cluster ids stay unpadded (%x), as etcdctl
//     prints them.
//   - etcd.lock(name, fn) may leave out the options; it returns what fn
//     returns. e:campaign takes {timeout=} (lock_timeout when it passes);
//     e:close() ends the election's session early. Proclaiming without
//     leading raises invalid_argument: "campaign first" when this candidate
//     never led, "the leadership was lost" when its key went away with its
//     session's lease (expired or revoked); resigning then does nothing.
//   - Cluster calls (cluster.go): member ids are hex as etcdctl member list
//     prints them. An endpoint argument must be a configured endpoint or a
//     member's client URL (invalid_argument otherwise): these calls send
//     the client's credentials to it. status and health without an endpoint ask every
//     configured endpoint at once, each under the per-call timeout; a
//     member that does not answer gets {endpoint=, err=} in its entry.
//     health never raises for the member's sake: an unhealthy member is an
//     answer ({healthy = false, err = ...}); it follows etcdctl endpoint
//     health (a read of "health", permission denied counting as healthy,
//     then the alarm list from the same member) and takes
//     {serializable = true} as etcdctl's --consistency=s. alarm_disarm with
//     only member_id or only alarm disarms every raised alarm that matches.
//     hash_kv's compact_revision is -1 when the store was never compacted.
//     defragment and snapshot wait as long as the member takes, bounded by
//     their timeout option and the run.
//   - etcd.snapshot: etcd sends no revision with a snapshot, so revision is
//     the member's revision read right before (all of it is in the
//     snapshot); without an endpoint the first configured endpoint that
//     answers serves it, and the result says which (endpoint). A file
//     error raises io_error; the sandbox raises permission_denied.
//   - Leadership (leadership.go): on_lost runs once, only for a loss (not
//     for a lock released, e:close() or the run's end), with an error of
//     code lease_not_found when the lease expired or was revoked.
//     e:guard() is to elections what lock:guard() is to
//     locks. e:observe(fn) ends when fn returns false, on :cancel(), at the
//     run's end, or when watching fails for good; it never calls fn for "no
//     leader".
//   - Compares accept "~=" as Lua's spelling of "!="; cmp.lease("k", "==",
//     "0") tests for no lease.
//   - Error ops: module functions and client methods report "etcd.get"
//     etc.; object methods report "lease:ttl", "watch:next", "txn:compare",
//     "election:campaign"; a failed commit reports "etcd.txn".
package bindings
