// Package app is the etcdscript command: flags, subcommands and the mapping
// of every outcome to an exit code. main passes the process state in, so
// tests run the whole command in-process.
package app
