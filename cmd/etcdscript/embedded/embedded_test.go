package embedded_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/cmd/etcdscript/embedded"
	"github.com/etcdscript/etcdscript/embedetcd"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// helper is one run of the program in this process.
type helper struct {
	endpoints []string
	stdin     io.Closer
	stderr    *bytes.Buffer // read once done has a value
	done      chan int
}

// start runs the program with args and waits for its endpoints line; it
// returns with endpoints empty when the program ended first.
func start(t *testing.T, args ...string) *helper {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &helper{stdin: inW, stderr: &bytes.Buffer{}, done: make(chan int, 1)}
	go func() {
		code := embedded.Run(args, inR, outW, h.stderr)
		outW.Close()
		inR.Close()
		h.done <- code
	}()
	line, _ := bufio.NewReader(outR).ReadString('\n')
	go io.Copy(io.Discard, outR)
	if l := strings.TrimSpace(line); l != "" {
		h.endpoints = strings.Split(l, ",")
	}
	t.Cleanup(func() { h.stop(t) })
	return h
}

// output returns what the program wrote on stderr, once it has ended.
func (h *helper) output() string {
	select {
	case code := <-h.done:
		h.done <- code
		return h.stderr.String()
	default:
		return "(still running)"
	}
}

// stop ends the program and returns its exit code.
func (h *helper) stop(t *testing.T) int {
	h.stdin.Close()
	select {
	case code := <-h.done:
		h.done <- code
		return code
	case <-time.After(time.Minute):
		t.Fatalf("the program did not stop; stderr: %s", h.output())
		return -1
	}
}

func newClient(t *testing.T, eps []string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func walFsyncs(t *testing.T) uint64 {
	t.Helper()
	n, err := etcdtest.WALFsyncs()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKeptDataDirIsSynced: data kept in --data-dir is synced to disk, one
// fdatasync (at least) per committed write, as a production etcd does.
// (embedetcd's tests check that a throwaway directory runs without.)
func TestKeptDataDirIsSynced(t *testing.T) {
	const puts = 200
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := start(t, "--data-dir", filepath.Join(t.TempDir(), "d"))
	if h.endpoints == nil {
		t.Fatalf("no endpoints; stderr: %s", h.output())
	}
	c := newClient(t, h.endpoints)
	before := walFsyncs(t)
	for i := range puts {
		if _, err := c.Put(ctx, fmt.Sprintf("k%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if synced := walFsyncs(t) - before; synced < puts {
		t.Errorf("%d WAL syncs for %d sequential puts into a kept data dir, want at least %d", synced, puts, puts)
	}
}

// TestSecondProcessRefused: a data dir in use is refused at once, naming
// the directory, with exit code 6 (bbolt's own lock would wait 75 s).
func TestSecondProcessRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	first := start(t, "--data-dir", dir)
	if first.endpoints == nil {
		t.Fatalf("no endpoints; stderr: %s", first.output())
	}
	began := time.Now()
	second := start(t, "--data-dir", dir)
	if second.endpoints != nil {
		t.Fatalf("a second server started on %s: %v", dir, second.endpoints)
	}
	code := second.stop(t)
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("refused after %v, want within 5s", took)
	}
	if code != 6 {
		t.Errorf("exit code %d, want 6", code)
	}
	if msg := second.output(); !strings.Contains(msg, dir) || !strings.Contains(msg, "in use") {
		t.Errorf("stderr %q does not say that %s is in use", msg, dir)
	}
	// The first one goes on serving.
	c := newClient(t, first.endpoints)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Put(ctx, "k", "v"); err != nil {
		t.Errorf("the first server after the refusal: %v", err)
	}
	// Once it stops, the directory is free again.
	if code := first.stop(t); code != 0 {
		t.Fatalf("first: exit code %d: %s", code, first.output())
	}
	third := start(t, "--data-dir", dir)
	if third.endpoints == nil {
		t.Fatalf("the freed data dir was refused: %s", third.output())
	}
}

// TestOnlyTheUserCanConnect: the server is reached through a unix socket
// in a directory only its user can enter, and opens no TCP port.
func TestOnlyTheUserCanConnect(t *testing.T) {
	for _, args := range [][]string{nil, {"--data-dir", filepath.Join(t.TempDir(), "d")}} {
		before, err := etcdtest.TCPListeners()
		if err != nil {
			t.Fatal(err)
		}
		h := start(t, args...)
		if len(h.endpoints) != 1 {
			t.Fatalf("endpoints %v; stderr: %s", h.endpoints, h.output())
		}
		sock, ok := strings.CutPrefix(h.endpoints[0], "unix://")
		if !ok {
			t.Fatalf("endpoint %q, want unix://PATH", h.endpoints[0])
		}
		fi, err := os.Stat(filepath.Dir(sock))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("the socket's directory %s has mode %v, want 0700", filepath.Dir(sock), perm)
		}
		after, err := etcdtest.TCPListeners()
		if err != nil {
			t.Fatal(err)
		}
		if len(after) > len(before) {
			t.Errorf("TCP ports listening: %v before the server, %v with it", before, after)
		}
		c := newClient(t, h.endpoints)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.Put(ctx, "k", "v"); err != nil {
			t.Errorf("put over %s: %v", h.endpoints[0], err)
		}
		cancel()
		c.Close()
		if code := h.stop(t); code != 0 {
			t.Fatalf("exit code %d: %s", code, h.output())
		}
		if _, err := os.Stat(filepath.Dir(sock)); !os.IsNotExist(err) {
			t.Errorf("the socket's directory is left behind: %v", err)
		}
	}
}

// TestLegacyDataDir: a --data-dir written by etcdscript before embedetcd
// (the data under DIR/m0) is found, not replaced by a new, empty cluster.
func TestLegacyDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	old, err := embedetcd.Start(ctx, embedetcd.Config{DataDir: filepath.Join(dir, "m0"), Name: "m0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, old.Endpoints()).Put(ctx, "k", "old"); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	h := start(t, "--data-dir", dir)
	if h.endpoints == nil {
		t.Fatalf("no endpoints; stderr: %s", h.output())
	}
	r, err := newClient(t, h.endpoints).Get(ctx, "k")
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "old" {
		t.Errorf("get k from the old data dir: %v, %v", r, err)
	}
}
