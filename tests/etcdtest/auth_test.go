package etcdtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// TestAuthTokenTTL checks that Options.AuthTokenTTL reaches etcd: a simple
// token stops working once its TTL has passed.
func TestAuthTokenTTL(t *testing.T) {
	c := StartT(t, Options{AuthTokenTTL: 1})
	cli := newClient(t, nil, c.Endpoints()...)
	ctx := ctxT(t, 20*time.Second)
	if _, err := cli.UserAdd(ctx, "root", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}

	conn, err := grpc.NewClient(c.Endpoints()[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ar, err := etcdserverpb.NewAuthClient(conn).Authenticate(ctx, &etcdserverpb.AuthenticateRequest{Name: "root", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	kv := etcdserverpb.NewKVClient(conn)
	withToken := metadata.AppendToOutgoingContext(ctx, "token", ar.Token)
	if _, err := kv.Put(withToken, &etcdserverpb.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatalf("put with a fresh token: %v", err)
	}
	// Each use of a simple token renews it, so leave it unused past its TTL
	// (etcd checks expiry once a second).
	time.Sleep(2500 * time.Millisecond)
	_, err = kv.Range(withToken, &etcdserverpb.RangeRequest{Key: []byte("k")})
	if err == nil || !strings.Contains(err.Error(), "invalid auth token") {
		t.Fatalf("range with an expired token: %v", err)
	}
}

// TestLeaseAndWatchClose checks that a cluster with leases, keepalives and
// watches in flight closes without leaking (TestMain runs goleak).
func TestLeaseAndWatchClose(t *testing.T) {
	c := StartT(t, Options{Size: 3})
	cli := newClient(t, nil, c.Endpoints()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lease, err := cli.Grant(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.KeepAlive(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	wch := cli.Watch(ctx, "w")
	if _, err := cli.Put(ctx, "w", "1"); err != nil {
		t.Fatal(err)
	}
	<-wch
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
