package embedetcd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/embedetcd"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.GoleakOptions()...)
}

func start(t *testing.T, cfg embedetcd.Config) *embedetcd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := embedetcd.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func connect(t *testing.T, s *embedetcd.Server) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: s.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// syncsFor returns how many WAL syncs n sequential puts into s cost.
func syncsFor(t *testing.T, s *embedetcd.Server, n int) uint64 {
	t.Helper()
	c := connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before, err := etcdtest.WALFsyncs()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := c.Put(ctx, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	after, err := etcdtest.WALFsyncs()
	if err != nil {
		t.Fatal(err)
	}
	return after - before
}

// TestFsync: one WAL sync per committed write where data is kept; none for
// a throwaway directory, or when a test turns it off.
func TestFsync(t *testing.T) {
	const puts = 100
	for _, tc := range []struct {
		name   string
		kept   bool
		fsync  embedetcd.Fsync
		synced bool
	}{
		{"kept", true, embedetcd.FsyncAuto, true},
		{"throwaway", false, embedetcd.FsyncAuto, false},
		{"kept, off", true, embedetcd.FsyncOff, false},
		{"throwaway, on", false, embedetcd.FsyncOn, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := embedetcd.Config{Fsync: tc.fsync}
			if tc.kept {
				cfg.DataDir = t.TempDir()
			}
			got := syncsFor(t, start(t, cfg), puts)
			if tc.synced && got < puts {
				t.Errorf("%d WAL syncs for %d puts, want at least %d", got, puts, puts)
			}
			if !tc.synced && got > puts/10 {
				t.Errorf("%d WAL syncs for %d puts, want (almost) none", got, puts)
			}
		})
	}
}

// TestDataDirLocked: a second server on a data dir in use is refused at
// once, naming it; the dir is free again after Close and keeps its data.
func TestDataDirLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	first, err := embedetcd.Start(context.Background(), embedetcd.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := connect(t, first).Put(ctx, "k", "kept"); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	second, err := embedetcd.Start(ctx, embedetcd.Config{DataDir: dir})
	if err == nil {
		second.Close()
		t.Fatal("a second server started on a data dir in use")
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("refused after %v, want at once", took)
	}
	if !errors.Is(err, embedetcd.ErrDataDirInUse) || !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q: want ErrDataDirInUse naming %s", err, dir)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := start(t, embedetcd.Config{DataDir: dir})
	r, err := connect(t, again).Get(ctx, "k")
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "kept" {
		t.Errorf("after a restart on %s: %v, %v", dir, r, err)
	}
}

// TestPrivateSocket: clients reach the server through a unix socket in a
// 0700 directory; no TCP port and no peer listener is open; Close removes
// the directory, and the data with it unless the data dir was given.
func TestPrivateSocket(t *testing.T) {
	for _, kept := range []bool{false, true} {
		t.Run(fmt.Sprint("kept=", kept), func(t *testing.T) {
			before, err := etcdtest.TCPListeners()
			if err != nil {
				t.Fatal(err)
			}
			var cfg embedetcd.Config
			if kept {
				cfg.DataDir = t.TempDir()
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s, err := embedetcd.Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			dir := s.SocketDir()
			if eps := s.Endpoints(); len(eps) != 1 || eps[0] != "unix://"+filepath.Join(dir, "client.sock") {
				t.Errorf("endpoints %v, want the socket in %s", eps, dir)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o700 {
				t.Errorf("%s has mode %v, want 0700", dir, fi.Mode().Perm())
			}
			for _, l := range s.Etcd().Clients {
				if l.Addr().Network() != "unix" {
					t.Errorf("client listener on %s %s", l.Addr().Network(), l.Addr())
				}
			}
			if n := len(s.Etcd().Peers); n != 0 {
				t.Errorf("%d peer listeners, want none", n)
			}
			after, err := etcdtest.TCPListeners()
			if err != nil {
				t.Fatal(err)
			}
			if len(after) > len(before) {
				t.Errorf("TCP listeners %v with the server, %v before", after, before)
			}
			// Another process sweeping stale directories leaves a live
			// server's alone: its lock is held.
			embedetcd.RemoveIfStale(dir)
			if _, err := connect(t, s).Put(ctx, "k", "v"); err != nil {
				t.Errorf("put: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("socket directory after Close: %v", err)
			}
			_, err = os.Stat(filepath.Join(s.DataDir(), "member"))
			if kept && err != nil {
				t.Errorf("kept data dir after Close: %v", err)
			}
			if !kept && !os.IsNotExist(err) {
				t.Errorf("throwaway data dir after Close: %v", err)
			}
		})
	}
}

// TestBadConfig: a configuration etcd cannot start with fails with an
// error naming what failed, and leaves no directory behind.
func TestBadConfig(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, err := embedetcd.Start(context.Background(), embedetcd.Config{TickMs: 100, ElectionMs: 200})
	if err == nil || !strings.Contains(err.Error(), "election") {
		t.Errorf("election timeout below 5 ticks: %v", err)
	}
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = embedetcd.Start(context.Background(), embedetcd.Config{DataDir: filepath.Join(file, "d")})
	if err == nil || !strings.Contains(err.Error(), "data directory "+filepath.Join(file, "d")) {
		t.Errorf("data dir under a file: %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
