package etcdtest

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// echoServer answers every line with the same line, until closed.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func roundTrip(conn net.Conn, r *bufio.Reader, msg string, timeout time.Duration) (string, error) {
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, msg+"\n"); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return line[:len(line)-1], nil
}

func TestProxyUnit(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if got, err := roundTrip(conn, r, "hello", 2*time.Second); err != nil || got != "hello" {
		t.Fatalf("round trip: %q %v", got, err)
	}

	// Pause holds bytes and Unpause delivers them.
	p.Pause()
	if _, err := roundTrip(conn, r, "held", 200*time.Millisecond); err == nil {
		t.Fatal("reply while paused")
	}
	p.Unpause()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("after unpause: %q %v", line, err)
	}

	// Blackhole drops bytes; Unblackhole closes the tainted connection,
	// and a new connection works.
	p.Blackhole()
	if _, err := roundTrip(conn, r, "lost", 200*time.Millisecond); err == nil {
		t.Fatal("reply while blackholed")
	}
	p.Unblackhole()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("tainted connection still open")
	}
	conn2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	r2 := bufio.NewReader(conn2)
	if got, err := roundTrip(conn2, r2, "again", 2*time.Second); err != nil || got != "again" {
		t.Fatalf("after unblackhole: %q %v", got, err)
	}

	// DropConnections closes it.
	p.DropConnections()
	conn2.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := r2.ReadString('\n'); err == nil {
		t.Fatal("connection open after DropConnections")
	}

	// Close refuses new connections and is idempotent.
	addr := p.Addr()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("proxy still accepts after Close")
	}
}

func TestProxyTargetDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	p, err := NewProxy(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection to a dead target stays open")
	}
}

func rawKV(t *testing.T, addr string) (etcdserverpb.KVClient, etcdserverpb.WatchClient) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return etcdserverpb.NewKVClient(conn), etcdserverpb.NewWatchClient(conn)
}

func rangeWithin(kv etcdserverpb.KVClient, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := kv.Range(ctx, &etcdserverpb.RangeRequest{Key: []byte("k")})
	return err
}

// rangeEventually retries a range until it succeeds or d passes: a raw gRPC
// connection fails the calls in flight when its connection is cut, and
// reconnects in the background.
func rangeEventually(kv etcdserverpb.KVClient, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := rangeWithin(kv, time.Second)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProxyBlackholeEtcd(t *testing.T) {
	c := StartT(t, Options{Proxy: true})
	m := c.Member(0)
	if m.Proxy() == nil || c.Endpoints()[0] != m.Proxy().Addr() {
		t.Fatal("no proxy")
	}
	kv, _ := rawKV(t, m.Endpoint())
	if err := rangeWithin(kv, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m.Proxy().Blackhole()
	if err := rangeWithin(kv, 500*time.Millisecond); err == nil {
		t.Fatal("range through a blackhole succeeded")
	}
	m.Proxy().Unblackhole()
	if err := rangeEventually(kv, 5*time.Second); err != nil {
		t.Fatalf("after unblackhole: %v", err)
	}

	// The same with clientv3, which must reconnect by itself.
	cli := newClient(t, nil, m.Endpoint())
	mustPut(t, cli, "k", "1")
	m.Proxy().Blackhole()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, err := cli.Get(ctx, "k")
	cancel()
	if err == nil {
		t.Fatal("clientv3 get through a blackhole succeeded")
	}
	m.Proxy().Unblackhole()
	mustGet(t, cli, "k", "1")
}

func TestProxyPauseEtcd(t *testing.T) {
	c := StartT(t, Options{Proxy: true})
	kv, _ := rawKV(t, c.Endpoints()[0])
	if err := rangeWithin(kv, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p := c.Member(0).Proxy()
	p.Pause()
	if err := rangeWithin(kv, 500*time.Millisecond); err == nil {
		t.Fatal("range through a paused proxy succeeded")
	}
	p.Unpause()
	if err := rangeEventually(kv, 5*time.Second); err != nil {
		t.Fatalf("after unpause: %v", err)
	}
}

func TestProxyDropConnectionsEtcd(t *testing.T) {
	c := StartT(t, Options{Proxy: true})
	kv, wc := rawKV(t, c.Endpoints()[0])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws, err := wc.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = ws.Send(&etcdserverpb.WatchRequest{RequestUnion: &etcdserverpb.WatchRequest_CreateRequest{
		CreateRequest: &etcdserverpb.WatchCreateRequest{Key: []byte("w")}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ws.Recv(); err != nil || !resp.Created {
		t.Fatalf("watch create: %v %v", resp, err)
	}
	c.Member(0).Proxy().DropConnections()
	done := make(chan error, 1)
	go func() {
		_, err := ws.Recv()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("watch stream survived DropConnections")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch stream still open after DropConnections")
	}
	if err := rangeEventually(kv, 5*time.Second); err != nil {
		t.Fatalf("after drop: %v", err)
	}
}

// TestProxyStopMember checks that the proxy keeps its address while its
// member is down, and forwards again after a restart.
func TestProxyStopMember(t *testing.T) {
	c := StartT(t, Options{Size: 3, Proxy: true})
	m := c.Member(1)
	addr := m.Endpoint()
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	kv, _ := rawKV(t, addr)
	if err := rangeWithin(kv, 300*time.Millisecond); err == nil {
		t.Fatal("range on a stopped member succeeded")
	}
	if err := m.Restart(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if m.Endpoint() != addr {
		t.Fatal("endpoint changed on restart")
	}
	if err := rangeEventually(kv, 5*time.Second); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
