package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// TestLeaseKeepAliveLeaderChange keeps a 2 s lease alive while the leader
// of a three-member cluster goes away: once with the keepalive stream on
// the leader itself (stopped gracefully, so the stream breaks and must be
// opened on another member), once with the stream on a follower that must
// forward renewals to a new leader (the old one killed abruptly).
func TestLeaseKeepAliveLeaderChange(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{Size: 3})
	oracle := leaseOracle(t, c.Endpoints())

	for _, tc := range []struct {
		name     string
		onLeader bool
		stop     func(*etcdtest.Member) error
	}{
		{"stream on leader, leader stopped", true, (*etcdtest.Member).Stop},
		{"stream on follower, leader killed", false, (*etcdtest.Member).Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := leaseCtx(t, 90*time.Second)
			leader := c.WaitLeader(t)
			via := leader
			if !tc.onLeader {
				for _, m := range c.Members() {
					if m != leader && m.Running() {
						via = m
						break
					}
				}
			}
			// Only one endpoint at first, so the stream is on that member;
			// then the others, so there is somewhere to go.
			cli := leaseClient(t, []string{via.Endpoint()})
			g, err := cli.Grant(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := cli.KeepAlive(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := <-ch; !ok || r.ID != g.ID {
				t.Fatalf("first renewal: %+v (%v)", r, client.KeepAliveError(ch))
			}
			if err := cli.SetEndpointsErr(c.Endpoints()...); err != nil {
				t.Fatal(err)
			}

			if err := tc.stop(leader); err != nil {
				t.Fatal(err)
			}
			stopped := time.Now()
			got := drainFor(t, ch, 6*time.Second) // three TTLs
			if len(got) == 0 {
				t.Fatal("no renewal in the three TTLs after the leader went away")
			}
			if ttl := leaseAlive(t, oracle, g.ID); ttl <= 0 {
				t.Fatalf("lease has TTL %d three TTLs after the leader went away", ttl)
			}
			t.Logf("%d renewals in %v after the leader went away", len(got), time.Since(stopped).Round(time.Millisecond))

			if err := leader.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			c.WaitLeader(t)
		})
	}
}

// TestLeaseKeepAliveQuorumLost stops two of three members: no renewal can
// be acknowledged any more, the keepalive channel closes once the TTL has
// run out, and the reason says the lease expired for want of a leader.
func TestLeaseKeepAliveQuorumLost(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{Size: 3})
	cli := leaseClient(t, c.Endpoints())
	ctx := leaseCtx(t, 60*time.Second)

	g, err := cli.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cli.KeepAlive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := <-ch; !ok || r.ID != g.ID {
		t.Fatalf("first renewal: %+v (%v)", r, client.KeepAliveError(ch))
	}
	leader := c.WaitLeader(t)
	stopped := 0
	for _, m := range c.Members() {
		if m != leader && stopped < 2 {
			if err := m.Stop(); err != nil {
				t.Fatal(err)
			}
			stopped++
		}
	}
	if stopped != 2 {
		t.Fatalf("stopped %d members", stopped)
	}
	awaitClose(t, ch, 20*time.Second)
	err = client.KeepAliveError(ch)
	var halted client.ErrKeepAliveHalted
	if !errors.As(err, &halted) || !errors.Is(err, client.ErrLeaseExpired) {
		t.Fatalf("reason %v, want ErrKeepAliveHalted wrapping ErrLeaseExpired", err)
	}
	cl := client.Classify(err)
	t.Logf("reason: %v (classified %+v)", err, cl)
	if cl.Code != client.CodeNoLeader && cl.Code != client.CodeUnavailable {
		t.Fatalf("reason %v classified %+v, want no_leader or unavailable", err, cl)
	}
}

// TestLeaseKeepAliveTokenRenewed invalidates the client's auth token while
// a keepalive runs (by changing its user's password): the stream is
// refused, the client logs in again and renewal goes on.
func TestLeaseKeepAliveTokenRenewed(t *testing.T) {
	// The cheapest bcrypt keeps a login (slow under the race detector)
	// well inside the lease's TTL.
	c := startLeaseCluster(t, etcdtest.Options{Configure: func(cfg *embed.Config) { cfg.BcryptCost = 4 }})
	ctx := leaseCtx(t, 60*time.Second)
	admin := leaseOracle(t, c.Endpoints())
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "alice", "alicepw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "alice", "root"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	root := leaseOracle(t, c.Endpoints(), func(cfg *clientv3.Config) { cfg.Username, cfg.Password = "root", "rootpw" })
	cli := leaseClient(t, c.Endpoints(), func(cfg *client.Config) { cfg.Username, cfg.Password = "alice", "alicepw" })

	g, err := cli.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cli.KeepAlive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := <-ch; !ok || r.ID != g.ID {
		t.Fatalf("first renewal: %+v (%v)", r, client.KeepAliveError(ch))
	}
	// Changing a user's password (here to the same one) drops its tokens.
	if _, err := root.UserChangePassword(ctx, "alice", "alicepw"); err != nil {
		t.Fatal(err)
	}
	// The keepalive stream's token is refused at the next renewal; without
	// a new login the stream would fail for good and the lease expire.
	got := drainFor(t, ch, 6*time.Second)
	if len(got) < 3 {
		t.Fatalf("%d renewals in three TTLs after the token was dropped", len(got))
	}
	ttl, err := root.TimeToLive(ctx, clientv3.LeaseID(g.ID))
	if err != nil || ttl.TTL <= 0 {
		t.Fatalf("lease TTL %v, err %v after the token was dropped", ttl, err)
	}
}

// TestLeaseKeepAliveMemberIsolated cuts the member that carries the
// keepalive stream off from the other two: it still accepts the client's
// connection but can renew nothing, so the stream must move to a member
// that can.
func TestLeaseKeepAliveMemberIsolated(t *testing.T) {
	c := startLeaseCluster(t, etcdtest.Options{Size: 3})
	ctx := leaseCtx(t, 60*time.Second)
	cut := c.Member(0)
	cli := leaseClient(t, []string{cut.Endpoint()})
	oracle := leaseOracle(t, []string{c.Member(1).Endpoint(), c.Member(2).Endpoint()})

	g, err := cli.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cli.KeepAlive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := <-ch; !ok || r.ID != g.ID {
		t.Fatalf("first renewal: %+v (%v)", r, client.KeepAliveError(ch))
	}
	if err := cli.SetEndpointsErr(c.Endpoints()...); err != nil {
		t.Fatal(err)
	}
	if err := c.Isolate(cut); err != nil {
		t.Fatal(err)
	}
	got := drainFor(t, ch, 6*time.Second)
	if len(got) == 0 {
		t.Fatal("no renewal in the three TTLs after the member was cut off")
	}
	if ttl := leaseAlive(t, oracle, g.ID); ttl <= 0 {
		t.Fatalf("lease has TTL %d three TTLs after its stream's member was cut off", ttl)
	}
	t.Logf("%d renewals in three TTLs after the member was cut off", len(got))
	c.Heal()
}
