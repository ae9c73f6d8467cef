package client_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// serverAtLeast reports whether a server version ("3.5.36") is major.minor
// or later.
func serverAtLeast(t *testing.T, version string, major, minor int) bool {
	t.Helper()
	f := strings.SplitN(version, ".", 3)
	if len(f) < 2 {
		t.Fatalf("server version %q", version)
	}
	ma, err1 := strconv.Atoi(f[0])
	mi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("server version %q", version)
	}
	return ma > major || ma == major && mi >= minor
}

// TestRangeStreamByServerVersion runs against the server etcdtest picks (an
// etcd 3.5 or 3.6 binary with etcdtest.ExternalEnv): on a server before 3.7
// ReadRange pages by itself, a client asks for RangeStream once and
// remembers the refusal until its endpoints change or it reconnects, and
// GetStream's error says what the server lacks; on 3.7 every read is a
// stream.
func TestRangeStreamByServerVersion(t *testing.T) {
	srv := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	var streams atomic.Int64
	countStreams := grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if method == "/etcdserverpb.KV/RangeStream" {
			streams.Add(1)
		}
		return streamer(ctx, desc, cc, method, opts...)
	})
	// Through a proxy, which can cut the client's connection.
	px, err := etcdtest.NewProxy(srv.Endpoints()[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	ep := px.Addr()
	c := coreOurs(t, client.Config{Endpoints: []string{ep}, DialOptions: []grpc.DialOption{countStreams}})
	ctx := coreCtx(t)
	for i := range 30 {
		if _, err := c.Put(ctx, fmt.Sprintf("v/%02d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Status(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	old := !serverAtLeast(t, st.Version, 3, 7)
	t.Logf("server %s", st.Version)

	readWhole := func() {
		t.Helper()
		want, err := c.Get(ctx, "", client.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.ReadRange(ctx, "", client.WithPrefix(), client.WithPageSize(7))
		if err != nil {
			t.Fatalf("ReadRange of the whole keyspace: %v", err)
		}
		got, err := readAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameKVs(got, want.Kvs); d != "" {
			t.Error(d)
		}
	}
	for range 3 {
		readWhole()
	}
	_, gerr := client.GetStreamToGetResponse(mustGetStream(ctx, t, c))
	_, gerr2 := client.GetStreamToGetResponse(mustGetStream(ctx, t, c))
	if !old {
		if gerr != nil || gerr2 != nil {
			t.Fatalf("GetStream on etcd %s: %v, %v", st.Version, gerr, gerr2)
		}
		if n := streams.Load(); n != 5 {
			t.Fatalf("%d RangeStream calls for 3 ReadRange and 2 GetStream", n)
		}
		return
	}
	if n := streams.Load(); n != 1 {
		t.Fatalf("%d RangeStream calls for 3 ReadRange and 2 GetStream on etcd %s; want 1, the refusal remembered", n, st.Version)
	}
	for i, err := range []error{gerr, gerr2} {
		if status.Code(err) != codes.Unimplemented || !errors.Is(err, client.ErrNoRangeStream) || !strings.Contains(err.Error(), "etcd 3.7") {
			t.Errorf("GetStream %d on etcd %s: %v; want Unimplemented wrapping ErrNoRangeStream", i+1, st.Version, err)
		}
	}
	// Other endpoints may be other members, of another version: the
	// client asks again.
	if err := c.SetEndpointsErr("http://" + ep); err != nil {
		t.Fatal(err)
	}
	readWhole()
	if n := streams.Load(); n != 2 {
		t.Fatalf("%d RangeStream calls after new endpoints, want 2", n)
	}
	// The same endpoints again are no change.
	if err := c.SetEndpointsErr("http://" + ep); err != nil {
		t.Fatal(err)
	}
	readWhole()
	if n := streams.Load(); n != 2 {
		t.Fatalf("%d RangeStream calls after the same endpoints, want 2", n)
	}
	// A new connection may reach an upgraded member: the client asks again.
	px.DropConnections()
	if _, err := c.Get(ctx, "v/00"); err != nil {
		t.Fatal(err)
	}
	readWhole()
	readWhole()
	if n := streams.Load(); n != 3 {
		t.Fatalf("%d RangeStream calls after a reconnect, want 3", n)
	}
}

func mustGetStream(ctx context.Context, t *testing.T, c *client.Client) client.GetStreamChan {
	t.Helper()
	ch, err := c.GetStream(ctx, "v/", client.WithPrefix())
	if err != nil {
		t.Fatalf("GetStream: %v", err)
	}
	return ch
}
