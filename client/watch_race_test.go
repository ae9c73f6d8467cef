//go:build race

package client_test

// wtRace scales down the heaviest watch tests under the race detector,
// which slows the in-process etcd servers many times over.
const wtRace = true
