//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package embedetcd

import (
	"fmt"
	"os"
)

// lockDir creates the lock file of dir. Without flock there is no lock:
// a second server on dir then waits on etcd's own database lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(lockPath(dir), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: data directory %s: %w", dir, err)
	}
	return f, nil
}
