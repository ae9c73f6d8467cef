//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package embedetcd

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes the exclusive lock of dir without waiting.
func lockDir(dir string) (*os.File, error) {
	path := lockPath(dir)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: data directory %s: %w", dir, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("embedetcd: %w: %s (another server holds its lock file, %s)", ErrDataDirInUse, dir, lockFile)
		}
		return nil, fmt.Errorf("embedetcd: data directory %s: locking %s: %w", dir, path, err)
	}
	return f, nil
}
