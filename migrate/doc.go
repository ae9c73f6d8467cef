// Package migrate applies versioned Lua migrations to etcd, as
// docs/migrations.md describes: a directory of
// <version>_<slug>.lua files, state and history kept in etcd under a prefix,
// a lease-backed lock, and every write of a migration fenced by that lock,
// so that a runner that lost its lock cannot write.
//
// The CLI's `etcdscript migrate` calls this package; a Go service can call
// it at start-up the same way:
//
//	r, err := migrate.New(migrate.Config{Client: cli, Dir: "migrations", Set: "app"})
//	...
//	report, err := r.Up(ctx, migrate.UpOptions{})
//
// # Keys
//
// Under Config.Prefix (default /etcdscript/migrations/<set>/):
//
//   - lock: the lease-backed mutex every run holds.
//   - state: JSON State: head, dirty, the version in progress.
//   - history/<version>/<run>: JSON Record of one run, both numbers
//     zero-padded to 20 digits so that keys sort by version, then run. A
//     run is every up, down, force or baseline of a version, numbered from
//     1; a run's record is written when it starts and rewritten when it
//     ends (applied, reverted, failed), and never overwritten by a later
//     run. The latest run of a version says whether it is applied.
//     History returns them all in the order they started.
//   - history/<version>: the single record per version that releases
//     before runs were kept apart wrote. It is read as the version's run
//     0, and the next run of that version is run 1 at the new layout.
//
// Errors and Report.Next suggest commands to run; Config.Command is the
// start of them, so that a CLI can include the flags that locate the set.
package migrate
