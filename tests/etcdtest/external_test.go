package etcdtest

import (
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestStartServer starts the server StartServerT picks (an external binary
// when ExternalEnv is set) with progress notifications every 200 ms: it
// serves, sends them, and is gone after Close.
func TestStartServer(t *testing.T) {
	s := StartServerT(t, ServerOptions{WatchProgressNotifyInterval: 200 * time.Millisecond})
	if bin := os.Getenv(ExternalEnv); bin != "" {
		x, ok := s.(*External)
		if !ok {
			t.Fatalf("%s=%s started a %T", ExternalEnv, bin, s)
		}
		v, err := BinaryVersion(bin)
		if err != nil || x.Version() != v {
			t.Fatalf("Version() = %q, binary says %q (%v)", x.Version(), v, err)
		}
	}
	cli := newClient(t, nil, s.Endpoints()...)
	mustPut(t, cli, "k", "v")
	mustGet(t, cli, "k", "v")
	ctx := ctxT(t, 30*time.Second)
	wch := cli.Watch(ctx, "nothing", clientv3.WithProgressNotify())
	select {
	case r := <-wch:
		if !r.IsProgressNotify() {
			t.Fatalf("first watch response %+v, want a progress notification", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no progress notification in 20 s with an interval of 200 ms")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx = ctxT(t, 2*time.Second)
	if _, err := cli.Get(ctx, "k"); err == nil {
		t.Fatal("the server still answers after Close")
	}
}

// TestStartExternalBadBinary: a binary that is not etcd fails with an error
// naming it.
func TestStartExternalBadBinary(t *testing.T) {
	_, err := StartExternal(ctxT(t, 10*time.Second), "/bin/true", ServerOptions{})
	if err == nil || !strings.Contains(err.Error(), "/bin/true") {
		t.Fatalf("err = %v, want one naming /bin/true", err)
	}
}
