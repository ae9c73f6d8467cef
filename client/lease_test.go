package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestLeaseCallsMatchOfficialClient grants, describes, lists and revokes
// leases with both clients on one server and compares the answers.
func TestLeaseCallsMatchOfficialClient(t *testing.T) {
	c := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	cli := leaseClient(t, c.Endpoints())
	oracle := leaseOracle(t, c.Endpoints())
	ctx := leaseCtx(t, 30*time.Second)

	g, err := cli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	og, err := oracle.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if g.ID == client.NoLease || g.TTL != og.TTL || g.TTL != 30 || g.Error != og.Error {
		t.Fatalf("Grant: ours %+v, official %+v", g, og)
	}
	if _, err := cli.Put(ctx, "lease/a", "1", client.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "lease/b", "2", client.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}

	ttl, err := cli.TimeToLive(ctx, g.ID, client.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	ottl, err := oracle.TimeToLive(ctx, clientv3.LeaseID(g.ID), clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ttl.ID != g.ID || ttl.GrantedTTL != ottl.GrantedTTL || ttl.TTL <= 0 || ttl.TTL > 30 {
		t.Fatalf("TimeToLive: ours %+v, official %+v", ttl, ottl)
	}
	keys := func(ks [][]byte) []string {
		var out []string
		for _, k := range ks {
			out = append(out, string(k))
		}
		slices.Sort(out)
		return out
	}
	if got, want := keys(ttl.Keys), keys(ottl.Keys); !slices.Equal(got, want) || len(got) != 2 {
		t.Fatalf("attached keys: ours %q, official %q", got, want)
	}
	if plain, err := cli.TimeToLive(ctx, g.ID); err != nil || len(plain.Keys) != 0 {
		t.Fatalf("TimeToLive without WithAttachedKeys: keys %q, err %v", plain.Keys, err)
	}

	ls, err := cli.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ols, err := oracle.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids, oids []int64
	for _, l := range ls.Leases {
		ids = append(ids, int64(l.ID))
	}
	for _, l := range ols.Leases {
		oids = append(oids, int64(l.ID))
	}
	slices.Sort(ids)
	slices.Sort(oids)
	if !slices.Equal(ids, oids) || !slices.Contains(ids, int64(g.ID)) || !slices.Contains(ids, int64(og.ID)) {
		t.Fatalf("Leases: ours %x, official %x", ids, oids)
	}

	if _, err := cli.Revoke(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if resp, err := cli.Get(ctx, "lease/", client.WithPrefix()); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("keys of a revoked lease: %v, err %v", resp.Kvs, err)
	}
	// A lease that is gone: TTL -1 from both, and the same error value on
	// a second revoke.
	gone, err := cli.TimeToLive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	ogone, err := oracle.TimeToLive(ctx, clientv3.LeaseID(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	if gone.TTL != -1 || gone.TTL != ogone.TTL {
		t.Fatalf("TimeToLive of a revoked lease: ours %d, official %d", gone.TTL, ogone.TTL)
	}
	_, err = cli.Revoke(ctx, g.ID)
	_, oerr := oracle.Revoke(ctx, clientv3.LeaseID(g.ID))
	if err != rpctypes.ErrLeaseNotFound || oerr != rpctypes.ErrLeaseNotFound {
		t.Fatalf("second Revoke: ours %v, official %v", err, oerr)
	}
	if cl := client.Classify(err); cl.Code != client.CodeLeaseNotFound {
		t.Fatalf("Classify(%v) = %+v", err, cl)
	}

	// KeepAliveOnce against both.
	ka, err := cli.KeepAliveOnce(ctx, client.LeaseID(og.ID))
	if err != nil {
		t.Fatal(err)
	}
	oka, err := oracle.KeepAliveOnce(ctx, og.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ka.ID != client.LeaseID(og.ID) || ka.TTL != oka.TTL || ka.Revision == 0 {
		t.Fatalf("KeepAliveOnce: ours %+v, official %+v", ka, oka)
	}
	_, err = cli.KeepAliveOnce(ctx, g.ID)
	_, oerr = oracle.KeepAliveOnce(ctx, clientv3.LeaseID(g.ID))
	if err != rpctypes.ErrLeaseNotFound || oerr != rpctypes.ErrLeaseNotFound {
		t.Fatalf("KeepAliveOnce of a revoked lease: ours %v, official %v", err, oerr)
	}
}

// TestLeaseBadInput checks that bad arguments are refused before anything
// is sent, with an error naming what was wrong.
func TestLeaseBadInput(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{})
	cli := leaseClient(t, c.Endpoints())
	ctx := leaseCtx(t, 10*time.Second)
	var nilCtx context.Context

	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("%s: err %v, want ErrInvalidArgument", name, err)
		}
	}
	_, err := cli.Grant(ctx, 0)
	check("Grant(0)", err)
	_, err = cli.Grant(ctx, -5)
	check("Grant(-5)", err)
	_, err = cli.Grant(nilCtx, 5)
	check("Grant(nil ctx)", err)
	_, err = cli.Revoke(ctx, client.NoLease)
	check("Revoke(NoLease)", err)
	_, err = cli.TimeToLive(nilCtx, 1)
	check("TimeToLive(nil ctx)", err)
	_, err = cli.TimeToLive(ctx, 1, nil)
	check("TimeToLive(nil option)", err)
	_, err = cli.Leases(nilCtx)
	check("Leases(nil ctx)", err)
	_, err = cli.KeepAliveOnce(ctx, client.NoLease)
	check("KeepAliveOnce(NoLease)", err)

	ch, err := cli.KeepAlive(nilCtx, 1)
	check("KeepAlive(nil ctx)", err)
	if _, ok := <-ch; ok {
		t.Fatal("KeepAlive(nil ctx) returned an open channel")
	}
	check("KeepAliveError after KeepAlive(nil ctx)", client.KeepAliveError(ch))
	ch, err = cli.KeepAlive(ctx, client.NoLease)
	check("KeepAlive(NoLease)", err)
	if _, ok := <-ch; ok {
		t.Fatal("KeepAlive(NoLease) returned an open channel")
	}
}

// TestLeaseKeepAliveRenews keeps a short lease alive for several TTLs, then
// cancels the keepalive and lets the lease expire.
func TestLeaseKeepAliveRenews(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{})
	cli := leaseClient(t, c.Endpoints())
	oracle := leaseOracle(t, c.Endpoints())
	ctx := leaseCtx(t, 60*time.Second)

	g, err := cli.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := cli.KeepAlive(kctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A second KeepAlive of the same lease shares the renewals.
	ch2, err := cli.KeepAlive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := drainFor(t, ch, 6*time.Second)
	// At a third of a 2 s TTL, 6 s give about 9 renewals.
	if len(got) < 4 {
		t.Fatalf("%d renewals in three TTLs, want at least 4", len(got))
	}
	for _, r := range got {
		if r.ID != g.ID || r.TTL != 2 || r.ResponseHeader == nil {
			t.Fatalf("renewal %+v", r)
		}
	}
	if ttl := leaseAlive(t, oracle, g.ID); ttl <= 0 {
		t.Fatalf("lease under keepalive has TTL %d after three TTLs", ttl)
	}
	if err := client.KeepAliveError(ch); err != nil {
		t.Fatalf("KeepAliveError of an open channel = %v", err)
	}

	cancel()
	awaitClose(t, ch, 5*time.Second)
	if err := client.KeepAliveError(ch); err != context.Canceled {
		t.Fatalf("KeepAliveError after cancel = %v, want context.Canceled", err)
	}
	// The other KeepAlive still renews the lease.
	drainFor(t, ch2, 3*time.Second)
	if ttl := leaseAlive(t, oracle, g.ID); ttl <= 0 {
		t.Fatalf("lease has TTL %d while a second KeepAlive runs", ttl)
	}
}

// TestLeaseKeepAliveReasons checks the close reason of each way a keepalive
// ends.
func TestLeaseKeepAliveReasons(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{})
	oracle := leaseOracle(t, c.Endpoints())
	cli := leaseClient(t, c.Endpoints())
	ctx := leaseCtx(t, 60*time.Second)

	grant := func() client.LeaseID {
		t.Helper()
		g, err := cli.Grant(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	keepAlive := func(ctx context.Context, id client.LeaseID) <-chan *client.LeaseKeepAliveResponse {
		t.Helper()
		ch, err := cli.KeepAlive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r := <-ch; r == nil || r.ID != id {
			t.Fatalf("first renewal of %x: %+v (%v)", id, r, client.KeepAliveError(ch))
		}
		return ch
	}

	t.Run("revoked here", func(t *testing.T) {
		id := grant()
		ch := keepAlive(ctx, id)
		if _, err := cli.Revoke(ctx, id); err != nil {
			t.Fatal(err)
		}
		awaitClose(t, ch, 5*time.Second)
		if err := client.KeepAliveError(ch); err != client.ErrLeaseRevoked {
			t.Fatalf("reason %v, want ErrLeaseRevoked", err)
		}
	})
	t.Run("revoked elsewhere", func(t *testing.T) {
		id := grant()
		ch := keepAlive(ctx, id)
		if _, err := oracle.Revoke(ctx, clientv3.LeaseID(id)); err != nil {
			t.Fatal(err)
		}
		awaitClose(t, ch, 10*time.Second)
		if err := client.KeepAliveError(ch); err != rpctypes.ErrLeaseNotFound {
			t.Fatalf("reason %v, want rpctypes.ErrLeaseNotFound", err)
		}
	})
	t.Run("never existed", func(t *testing.T) {
		ch, err := cli.KeepAlive(ctx, 0x1234)
		if err != nil {
			t.Fatal(err)
		}
		awaitClose(t, ch, 10*time.Second)
		if err := client.KeepAliveError(ch); err != rpctypes.ErrLeaseNotFound {
			t.Fatalf("reason %v, want rpctypes.ErrLeaseNotFound", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		id := grant()
		dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		ch := keepAlive(dctx, id)
		awaitClose(t, ch, 5*time.Second)
		if err := client.KeepAliveError(ch); err != context.DeadlineExceeded {
			t.Fatalf("reason %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("lease closed", func(t *testing.T) {
		l := client.NewLease(cli)
		id := grant()
		ch, err := l.KeepAlive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		awaitClose(t, ch, time.Second)
		if err := client.KeepAliveError(ch); err != client.ErrClientClosed {
			t.Fatalf("reason %v, want ErrClientClosed", err)
		}
		// The client itself goes on.
		if _, err := cli.TimeToLive(ctx, id); err != nil {
			t.Fatal(err)
		}
		ch, err = l.KeepAlive(ctx, id)
		var halted client.ErrKeepAliveHalted
		if !errors.As(err, &halted) || !errors.Is(err, client.ErrClientClosed) {
			t.Fatalf("KeepAlive after Close: %v, want ErrKeepAliveHalted wrapping ErrClientClosed", err)
		}
		if _, ok := <-ch; ok || !errors.Is(client.KeepAliveError(ch), client.ErrClientClosed) {
			t.Fatalf("KeepAlive after Close returned an open channel or reason %v", client.KeepAliveError(ch))
		}
	})
	t.Run("client closed", func(t *testing.T) {
		other := leaseClient(t, c.Endpoints())
		id := grant()
		ch, err := other.KeepAlive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sep := client.NewLease(other) // closed by the client's Close too
		ch2, err := sep.KeepAlive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Close(); err != nil {
			t.Fatal(err)
		}
		awaitClose(t, ch, time.Second)
		awaitClose(t, ch2, 5*time.Second)
		if err := client.KeepAliveError(ch); err != client.ErrClientClosed {
			t.Fatalf("reason %v, want ErrClientClosed", err)
		}
		if err := client.KeepAliveError(ch2); err != client.ErrClientClosed {
			t.Fatalf("NewLease reason %v, want ErrClientClosed", err)
		}
		sep.Close()
	})
}

// TestLeaseKeepAliveNotDrained leaves a keepalive channel unread: renewals
// go on, other calls proceed, and the channel holds only the latest
// renewal.
func TestLeaseKeepAliveNotDrained(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{})
	cli := leaseClient(t, c.Endpoints())
	oracle := leaseOracle(t, c.Endpoints())
	ctx := leaseCtx(t, 60*time.Second)

	g, err := cli.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cli.KeepAlive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := cli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := cli.KeepAlive(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Calls made while nobody reads: each must return promptly.
	start := time.Now()
	var midRev int64
	n := 0
	for time.Since(start) < 6*time.Second {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cli.Put(cctx, "undrained", "v", client.WithLease(g.ID))
		if err == nil {
			if midRev == 0 && time.Since(start) > 4*time.Second {
				midRev = resp.Header.Revision
			}
			_, err = cli.KeepAliveOnce(cctx, other.ID)
		}
		cancel()
		if err != nil {
			t.Fatalf("call %d while the keepalive channel is full: %v", n, err)
		}
		n++
		time.Sleep(20 * time.Millisecond)
	}
	if ttl := leaseAlive(t, oracle, g.ID); ttl <= 0 {
		t.Fatalf("undrained lease has TTL %d after three TTLs", ttl)
	}
	if len(ch) != 1 {
		t.Fatalf("undrained channel holds %d renewals, want 1", len(ch))
	}
	// What is buffered is a recent renewal (made after a put two seconds
	// before the end), not the first one.
	r := <-ch
	if r.ID != g.ID || r.TTL != 2 {
		t.Fatalf("buffered renewal %+v", r)
	}
	if r.Revision < midRev {
		t.Fatalf("buffered renewal at revision %d, older than a put made 2 s before (revision %d)", r.Revision, midRev)
	}
	if len(ch2) != 1 {
		t.Fatalf("second undrained channel holds %d renewals, want 1", len(ch2))
	}
	if resp, err := oracle.Get(ctx, "undrained"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("key on the kept lease: %v, %v", resp, err)
	}
}
