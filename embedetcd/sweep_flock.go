//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package embedetcd

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// staleAge is how old a private directory must be before sweepStale looks
// at it: older than the moment between making one and locking it.
const staleAge = time.Minute

// sweepStale removes, from parent, the private directories of servers
// that are gone: a process killed before it could remove its own (SIGKILL,
// a crash) leaves its socket and, without --data-dir, a throwaway data
// directory whose WAL alone takes 64 MiB. A directory is taken for stale
// only if it is the current user's, older than staleAge, and nobody holds
// its lock (the lock of a live server is held for its whole life, and the
// kernel drops it with the process). A directory from before the lock
// existed counts as stale when nothing answers on its socket. Errors are
// ignored: sweeping is housekeeping, and a directory left is only space.
func sweepStale(parent string, now time.Time) {
	names, err := filepath.Glob(filepath.Join(parent, privPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range names {
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || now.Sub(fi.ModTime()) < staleAge {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
			continue
		}
		removeIfStale(dir)
	}
}

func removeIfStale(dir string) {
	f, err := os.OpenFile(lockPath(dir), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if !answers(filepath.Join(dir, clientSocket)) {
			os.RemoveAll(dir)
		}
		return
	}
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // held: its server runs
	}
	os.RemoveAll(dir)
}

// answers reports whether something listens on the unix socket at path.
func answers(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		// Refused or absent: no server. Anything else (a permission
		// problem, a timeout): leave it be.
		return !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, os.ErrNotExist)
	}
	c.Close()
	return true
}

// tempParents are the directories makePrivateDir may use.
func tempParents() []string {
	parents := []string{os.TempDir()}
	if filepath.Clean(os.TempDir()) != "/tmp" {
		parents = append(parents, "/tmp")
	}
	return parents
}
