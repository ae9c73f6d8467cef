// Package etcdtest starts real etcd clusters inside the current process, for
// tests. It is built on the product's server, package embedetcd (which
// serves `etcdscript run --embedded` and enginetest), with test settings.
//
// Start (or StartT in a test) launches a cluster of one or more members,
// each an embedetcd.Server. Every member listens on 127.0.0.1 with ports
// that are free when the cluster starts and advertises those real ports, so
// MemberList answers with addresses a client can dial. Data lives in a
// temporary directory that Close removes, and Close stops every goroutine
// that etcd can stop; GoleakOptions lists the few that it cannot.
//
// The defaults favour speed over durability: fsync is off (also in a
// DataDir given in Options) and the raft heartbeat and election timeout are
// short, so a one-member cluster starts in
// well under a second. Logging is off unless Options.Logger is set or the
// ETCDTEST_LOG environment variable names a level (1 means "error").
//
// Options.ClientTLS serves clients over TLS with certificates made for the
// cluster and requires a client certificate. Options.Proxy puts a small TCP
// proxy of this package in front of each member's client URL, so a test can
// blackhole, pause or cut the connections of one member. In a cluster of
// several members, peer traffic always flows through such proxies too: they
// let Cluster.Isolate cut a member off from the others, and let a stopped
// member's connections be closed, which etcd alone leaves open for seconds.
//
// StartServer (StartServerT) starts a one-member cluster for tests that
// only need endpoints; when the ETCDSCRIPT_TEST_ETCD environment variable
// (ExternalEnv) names an etcd binary, such as etcd 3.5 built by
// tests/oldetcd/build.sh, it runs that binary as a process instead
// (External), so the same tests check older server versions.
//
// The package does not import "testing": StartT takes the small TB interface
// that *testing.T, *testing.B and testing.TB satisfy.
package etcdtest
