// Package migrate applies versioned Lua migrations to etcd, as
// ../shared/design/MIGRATIONS.md describes: a directory of
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
package migrate
