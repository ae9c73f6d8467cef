package client

// This file tests the endpoint parser from inside the package: how an
// endpoint is dialled (network, address, TLS or not, the name a server
// certificate must carry) is not visible from outside but decides whether
// a connection works at all.

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func TestEndpointParse(t *testing.T) {
	cases := []struct {
		raw     string
		haveTLS bool
		network string
		addr    string
		host    string
		secure  bool
		dial    string
	}{
		{"127.0.0.1:2379", false, "tcp", "127.0.0.1:2379", "127.0.0.1", false, "127.0.0.1:2379"},
		{"127.0.0.1:2379", true, "tcp", "127.0.0.1:2379", "127.0.0.1", true, "127.0.0.1:2379"},
		{"localhost:2379", false, "tcp", "localhost:2379", "localhost", false, "localhost:2379"},
		{":2379", false, "tcp", "127.0.0.1:2379", "127.0.0.1", false, "127.0.0.1:2379"},
		{"[::1]:2379", false, "tcp", "[::1]:2379", "::1", false, "[::1]:2379"},
		{" 10.0.0.1:1 ", false, "tcp", "10.0.0.1:1", "10.0.0.1", false, "10.0.0.1:1"},
		{"http://127.0.0.1:2379", false, "tcp", "127.0.0.1:2379", "127.0.0.1", false, "127.0.0.1:2379"},
		{"http://127.0.0.1:2379", true, "tcp", "127.0.0.1:2379", "127.0.0.1", false, "127.0.0.1:2379"},
		{"http://etcd.example:2379/", false, "tcp", "etcd.example:2379", "etcd.example", false, "etcd.example:2379"},
		{"https://etcd.example:2379", false, "tcp", "etcd.example:2379", "etcd.example", true, "etcd.example:2379"},
		{"HTTPS://[::1]:2379", false, "tcp", "[::1]:2379", "::1", true, "[::1]:2379"},
		{"unix:///tmp/etcd.sock", false, "unix", "/tmp/etcd.sock", "localhost", false, "unix:/tmp/etcd.sock"},
		{"unix:///tmp/etcd.sock", true, "unix", "/tmp/etcd.sock", "localhost", false, "unix:/tmp/etcd.sock"},
		{"unix://etcd.sock", false, "unix", "etcd.sock", "localhost", false, "unix:etcd.sock"},
		{"unix:etcd.sock", false, "unix", "etcd.sock", "localhost", false, "unix:etcd.sock"},
		{"unixs:///run/etcd.sock", false, "unix", "/run/etcd.sock", "localhost", true, "unix:/run/etcd.sock"},
		{"unixs://localhost:2379", false, "unix", "localhost:2379", "localhost", true, "unix:localhost:2379"},
	}
	for _, tc := range cases {
		ep, err := parseEndpoint(tc.raw, tc.haveTLS)
		if err != nil {
			t.Errorf("parseEndpoint(%q, tls=%v): %v", tc.raw, tc.haveTLS, err)
			continue
		}
		got := [...]any{ep.network, ep.addr, ep.host, ep.secure, ep.dialAddr(), ep.raw}
		want := [...]any{tc.network, tc.addr, tc.host, tc.secure, tc.dial, tc.raw}
		if got != want {
			t.Errorf("parseEndpoint(%q, tls=%v) = %v, want %v", tc.raw, tc.haveTLS, got, want)
		}
	}
	for _, raw := range []string{"", "host", "host:", "ftp://h:1", "http://h:1/x", "http://h:1?q=1", "unix://", "h:x1"} {
		if _, err := parseEndpoint(raw, false); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("parseEndpoint(%q) = %v, want ErrInvalidArgument", raw, err)
		}
	}
}

// TestEndpointUnixSocket connects over a unix socket that the embedded
// server listens on besides its TCP port, with both clients.
func TestEndpointUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "etcd.sock")
	cl := etcdtest.StartT(t, etcdtest.Options{Configure: func(cfg *embed.Config) {
		cfg.ListenClientUrls = append(cfg.ListenClientUrls, url.URL{Scheme: "unix", Path: sock})
	}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for _, ep := range []string{"unix://" + sock, "unix:" + sock} {
		c, err := New(Config{Endpoints: []string{ep}, DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("New(%s): %v", ep, err)
		}
		if _, err := c.Put(ctx, "over", ep); err != nil {
			t.Errorf("Put over %s: %v", ep, err)
		}
		c.Close()
	}

	// The value written over the socket is what a TCP client reads, and
	// clientv3 over the same socket agrees.
	tcp, err := New(Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	r, err := tcp.Get(ctx, "over")
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "unix:"+sock {
		t.Fatalf("Get over TCP: %v, %v", r, err)
	}
	off, err := clientv3.New(clientv3.Config{Endpoints: []string{"unix://" + sock}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	or, err := off.Get(ctx, "over")
	if err != nil || len(or.Kvs) != 1 || or.Kvs[0].ModRevision != r.Kvs[0].ModRevision {
		t.Errorf("clientv3 over the socket: %v, %v; ours over TCP: %v", or, err, r)
	}
}
