// Package embedetcd runs an etcd server inside the current process: the
// server of `etcdscript run --embedded` (through its helper program,
// etcdscript-etcd) and of enginetest, and the base on which the test
// clusters of tests/etcdtest are built.
//
// Start starts one member with go.etcd.io/etcd/server/v3/embed and waits
// until it serves. Its defaults are a user's, and these are guaranteed:
//
//   - Durability. Data kept in Config.DataDir is synced to disk as a
//     production etcd syncs it: an fdatasync of the write-ahead log for
//     every committed batch of writes. Only a throwaway directory, one that
//     Start made itself (DataDir empty) and Close removes, runs without
//     fsync, because nothing in it outlives the process.
//   - One server per data directory. Start takes an exclusive, non-blocking
//     lock (flock; on Linux, macOS and the BSDs) on a file in the data
//     directory, etcdscript.lock, before etcd opens anything there, and
//     holds it until Close. A second server on the same directory, in this
//     process or another, is refused at once with an error that wraps
//     ErrDataDirInUse and names the directory (etcd's own database lock
//     would make it wait, silently, for minutes). The lock goes with the
//     process, so a crash leaves no stale lock behind.
//   - Reachable by the invoking user only. Clients connect through a unix
//     socket, client.sock, in a new directory of mode 0700 that only the
//     user who started the server can enter (Server.Endpoints gives its
//     unix:// URL, which etcdctl --endpoints and this module's client
//     accept). No TCP port is opened, and there is no peer listener at all:
//     a member alone never hears from peers, and etcd's embed (v3.7) binds a
//     unix peer URL to its host part only, so unix:///path becomes an
//     abstract socket that any local user can reach, and a path cannot be
//     a URL's host. The member advertises a peer URL in the private
//     directory that no one listens on. Close removes the directory; the
//     directory of a process that died without closing (SIGKILL, a crash),
//     with its throwaway data, is removed by the next server this user
//     starts: one older than a minute whose lock (held for the server's
//     whole life) is free, or, without a lock file, whose socket does not
//     answer.
//
// A cluster of several members, TCP listeners, or test-friendly settings
// (fsync off for a kept directory) are asked for through the other Config
// fields; tests/etcdtest does so.
package embedetcd
