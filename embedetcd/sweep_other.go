//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package embedetcd

import "time"

// sweepStale does nothing without flock: nothing tells a live server's
// directory from a dead one's.
func sweepStale(string, time.Time) {}

func tempParents() []string { return nil }

func removeIfStale(string) {}
