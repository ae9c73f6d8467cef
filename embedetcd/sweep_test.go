//go:build linux

package embedetcd

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSweepStale: the private directories of servers that are gone are
// removed; a directory whose lock is held, one too young to judge, one
// whose socket answers, and anything not ours are left.
func TestSweepStale(t *testing.T) {
	parent := t.TempDir()
	mk := func(name string, perm os.FileMode, lock bool) string {
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, perm); err != nil {
			t.Fatal(err)
		}
		if lock {
			if err := os.WriteFile(lockPath(dir), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	stale := mk(privPrefix+"stale", 0o700, true)
	if err := os.MkdirAll(filepath.Join(stale, "data", "member", "wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	live := mk(privPrefix+"live", 0o700, true)
	held, err := lockDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	legacyDead := mk(privPrefix+"legacy-dead", 0o700, false)
	if err := os.WriteFile(filepath.Join(legacyDead, clientSocket), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	legacyLive := mk(privPrefix+"legacy-live", 0o700, false)
	l, err := net.Listen("unix", filepath.Join(legacyLive, clientSocket))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	shared := mk(privPrefix+"shared", 0o755, true)
	other := mk("other-stale", 0o700, true)

	sweepStale(parent, time.Now()) // all too young
	for _, dir := range []string{stale, live, legacyDead, legacyLive, shared, other} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s swept while younger than %v: %v", filepath.Base(dir), staleAge, err)
		}
	}
	sweepStale(parent, time.Now().Add(2*staleAge))
	for dir, wantGone := range map[string]bool{stale: true, legacyDead: true, live: false, legacyLive: false, shared: false, other: false} {
		_, err := os.Stat(dir)
		if gone := os.IsNotExist(err); gone != wantGone {
			t.Errorf("%s: gone %v, want %v (%v)", filepath.Base(dir), gone, wantGone, err)
		}
	}
}
