package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// adminClient returns one of our clients on eps, closed when the test ends.
func adminClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	cli, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New(%v): %v", cfg.Endpoints, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// officialClient returns the reference client on eps, closed when the test
// ends.
func officialClient(t *testing.T, cfg clientv3.Config) *clientv3.Client {
	t.Helper()
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	cfg.Logger = zap.NewNop()
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("clientv3.New(%v): %v", cfg.Endpoints, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// adminCtx is the context of a test: a bound for hangs, generous because
// password hashing is slow under the race detector.
func adminCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// memberSummary is what two member lists of the same cluster must agree on.
func memberSummary(ms []*pb.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, fmt.Sprintf("id=%x name=%q peers=%v clients=%v learner=%v", m.ID, m.Name, m.PeerURLs, m.ClientURLs, m.IsLearner))
	}
	slices.Sort(out)
	return out
}

func TestMemberListMatchesOfficial(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)

	for _, serializable := range []bool{false, true} {
		var oo []client.OpOption
		var ro []clientv3.OpOption
		if serializable {
			oo, ro = append(oo, client.WithSerializable()), append(ro, clientv3.WithSerializable())
		}
		got, err := ours.MemberList(ctx, oo...)
		if err != nil {
			t.Fatalf("MemberList(serializable=%v): %v", serializable, err)
		}
		want, err := ref.MemberList(ctx, ro...)
		if err != nil {
			t.Fatalf("official MemberList: %v", err)
		}
		if g, w := memberSummary(got.Members), memberSummary(want.Members); !slices.Equal(g, w) {
			t.Fatalf("serializable=%v: members\n%v\nofficial\n%v", serializable, g, w)
		}
		if got.Header.ClusterId != want.Header.ClusterId || got.Header.ClusterId == 0 {
			t.Fatalf("cluster id %x, official %x", got.Header.ClusterId, want.Header.ClusterId)
		}
	}
	got, _ := ours.MemberList(ctx)
	var ids []uint64
	for _, m := range got.Members {
		ids = append(ids, m.ID)
	}
	for _, m := range cl.Members() {
		if !slices.Contains(ids, m.ID()) {
			t.Fatalf("member %s (%x) missing from %x", m.Name(), m.ID(), ids)
		}
	}

	// A voting member that never starts: with 3 of 4 up, quorum holds, so
	// the server's reconfiguration check lets it in (once the members have
	// been connected for a while).
	fake := "http://127.0.0.1:1"
	var added *client.MemberAddResponse
	err := untilHealthy(ctx, func(actx context.Context, retried bool) (err error) {
		added, err = ours.MemberAdd(actx, []string{fake})
		if retried && errors.Is(err, rpctypes.ErrPeerURLExist) {
			// An attempt that timed out was applied after all.
			added, err = memberAddedBefore(actx, ours, fake)
		}
		return err
	})
	if err != nil {
		t.Fatalf("MemberAdd: %v", err)
	}
	if added.Member.IsLearner || !slices.Equal(added.Member.PeerURLs, []string{fake}) || len(added.Members) != 4 {
		t.Fatalf("MemberAdd answered %+v", added)
	}
	want, err := ref.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := memberSummary(added.Members), memberSummary(want.Members); !slices.Equal(g, w) {
		t.Fatalf("after add: members\n%v\nofficial\n%v", g, w)
	}
	// The same URL again is refused alike by both clients. The server
	// makes a new member's id from its URLs and the current second, so an
	// add within the second of the first one is refused as a duplicate id
	// rather than a duplicate URL: wait for the next second, so that both
	// clients meet the same check.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	_, err = ours.MemberAdd(ctx, []string{fake})
	_, rerr := ref.MemberAdd(ctx, []string{fake})
	if err == nil || !(errors.Is(err, rpctypes.ErrMemberExist) || errors.Is(err, rpctypes.ErrPeerURLExist)) || rerr == nil || err.Error() != rerr.Error() {
		t.Fatalf("second MemberAdd: %v, official %v", err, rerr)
	}
	if err := removeMember(ctx, ours, added.Member.ID); err != nil {
		t.Fatalf("MemberRemove: %v", err)
	}
	_, err = ours.MemberRemove(ctx, added.Member.ID)
	_, rerr = ref.MemberRemove(ctx, added.Member.ID)
	if !errors.Is(err, rpctypes.ErrMemberNotFound) || err.Error() != rerr.Error() {
		t.Fatalf("second MemberRemove: %v, official %v", err, rerr)
	}
}

func TestMemberBadInput(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)
	for _, urls := range [][]string{nil, {""}, {"127.0.0.1:2380"}, {"ftp://127.0.0.1:2380"}, {"http://127.0.0.1"}, {"http://127.0.0.1:2380/path"}, {"http://:2380"}} {
		if _, err := ours.MemberAdd(ctx, urls); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("MemberAdd(%q) = %v, want ErrInvalidArgument", urls, err)
		}
		if _, err := ours.MemberUpdate(ctx, 1, urls); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("MemberUpdate(%q) = %v, want ErrInvalidArgument", urls, err)
		}
	}
	//lint:ignore SA1012 a nil context is what is tested.
	if _, err := ours.MemberList(nil); !errors.Is(err, client.ErrInvalidArgument) { //nolint:staticcheck
		t.Errorf("MemberList(nil) = %v", err)
	}
	for name, call := range map[string]func() error{
		"MemberRemove":  func() error { _, err := ours.MemberRemove(ctx, 0); return err },
		"MemberPromote": func() error { _, err := ours.MemberPromote(ctx, 0); return err },
		"MemberUpdate":  func() error { _, err := ours.MemberUpdate(ctx, 0, []string{"http://127.0.0.1:1"}); return err },
	} {
		if err := call(); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("%s(id 0) = %v, want ErrInvalidArgument", name, err)
		}
	}
}

// TestLearnerJoinAndPromote adds a learner, starts a real etcd that joins
// as that learner, promotes it once it has caught up, and removes it again.
// etcdtest builds clusters from scratch only, so the joining member is
// started here with embed directly.
func TestLearnerJoinAndPromote(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)

	clientPort, peerPort := freePort(t), freePort(t)
	peerURL := "http://" + peerPort
	added, err := ours.MemberAddAsLearner(ctx, []string{peerURL})
	if err != nil {
		t.Fatalf("MemberAddAsLearner: %v", err)
	}
	if !added.Member.IsLearner {
		t.Fatalf("added member is not a learner: %+v", added.Member)
	}
	id := added.Member.ID

	// Promoting a learner that has not caught up is refused alike.
	_, err = ours.MemberPromote(ctx, id)
	_, rerr := ref.MemberPromote(ctx, id)
	if !errors.Is(err, rpctypes.ErrMemberLearnerNotReady) || rerr == nil || err.Error() != rerr.Error() {
		t.Fatalf("early MemberPromote: %v, official %v", err, rerr)
	}

	var initial []string
	for _, m := range added.Members {
		name := m.Name
		if m.ID == id {
			name = "learner"
		}
		for _, u := range m.PeerURLs {
			initial = append(initial, name+"="+u)
		}
	}
	cfg := embed.NewConfig()
	cfg.Name = "learner"
	cfg.Dir = filepath.Join(t.TempDir(), "learner")
	cfg.ClusterState = embed.ClusterStateFlagExisting
	cfg.InitialCluster = strings.Join(initial, ",")
	cfg.TickMs, cfg.ElectionMs = etcdtest.DefaultTickMs, etcdtest.DefaultElectionMs
	cfg.UnsafeNoFsync = true
	cfg.Logger = "zap"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cu, pu := mustURL(t, "http://"+clientPort), mustURL(t, peerURL)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start the learner: %v", err)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("learner: %v", err)
	case <-ctx.Done():
		t.Fatal("learner not ready")
	}

	// The learner is ready once it has applied the log; the leader may
	// still need a moment to see that.
	for {
		_, err = ours.MemberPromote(ctx, id)
		if !errors.Is(err, rpctypes.ErrMemberLearnerNotReady) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("MemberPromote: %v", err)
	}
	got, err := ours.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := memberSummary(got.Members), memberSummary(want.Members); !slices.Equal(g, w) {
		t.Fatalf("members\n%v\nofficial\n%v", g, w)
	}
	voting := 0
	for _, m := range got.Members {
		if !m.IsLearner {
			voting++
		}
		if m.ID == id && m.Name != "learner" {
			t.Fatalf("joined member listed as %+v", m)
		}
	}
	if voting != 2 {
		t.Fatalf("%d voting members after promotion, want 2: %v", voting, memberSummary(got.Members))
	}

	// MemberUpdate with the URL it already has, then remove it.
	if _, err := ours.MemberUpdate(ctx, id, []string{peerURL}); err != nil {
		t.Fatalf("MemberUpdate: %v", err)
	}
	if err := removeMember(ctx, ours, id); err != nil {
		t.Fatalf("MemberRemove: %v", err)
	}
	got, err = ours.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Members) != 1 {
		t.Fatalf("members after remove: %v", memberSummary(got.Members))
	}
}

// TestLearnerFakePeer covers MemberUpdate and the refusals on a learner
// that never starts (a learner does not count toward quorum, so even a
// one-member cluster accepts it).
func TestLearnerFakePeer(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)

	added, err := ours.MemberAddAsLearner(ctx, []string{"http://127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	id := added.Member.ID
	if _, err := ours.MemberUpdate(ctx, id, []string{"http://127.0.0.1:3", "http://127.0.0.1:4"}); err != nil {
		t.Fatalf("MemberUpdate: %v", err)
	}
	want, err := ref.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range want.Members {
		if m.ID == id {
			found = true
			if !m.IsLearner || !slices.Equal(m.PeerURLs, []string{"http://127.0.0.1:3", "http://127.0.0.1:4"}) {
				t.Fatalf("official client sees %+v", m)
			}
		}
	}
	if !found {
		t.Fatalf("learner %x not listed: %v", id, memberSummary(want.Members))
	}
	_, err = ours.MemberUpdate(ctx, 12345, []string{"http://127.0.0.1:5"})
	_, rerr := ref.MemberUpdate(ctx, 12345, []string{"http://127.0.0.1:5"})
	if !errors.Is(err, rpctypes.ErrMemberNotFound) || err.Error() != rerr.Error() {
		t.Fatalf("MemberUpdate of unknown id: %v, official %v", err, rerr)
	}
	if _, err := ours.MemberRemove(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// untilHealthy repeats a membership change the server refused as
// rpctypes.ErrUnhealthy: etcd accepts a change only when the members it
// needs have been connected for a few seconds, which just after a start
// they have not. A refused change was not applied, so repeating it is safe.
//
// It also repeats an attempt that got no answer within changeTimeout: the
// leader silently drops a configuration change proposed while it has not
// yet applied the previous one, and the server then waits for it until the
// caller's deadline. Such an attempt may still have been applied, so
// change is told when an earlier attempt timed out (retried), to accept
// "already exists" or "not found" as done.
func untilHealthy(ctx context.Context, change func(ctx context.Context, retried bool) error) error {
	retried := false
	for {
		actx, cancel := context.WithTimeout(ctx, changeTimeout)
		err := change(actx, retried)
		cancel()
		timedOut := errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
		if !errors.Is(err, rpctypes.ErrUnhealthy) && !timedOut {
			return err
		}
		retried = retried || timedOut
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

const changeTimeout = 15 * time.Second

// removeMember removes id, repeating as untilHealthy does.
func removeMember(ctx context.Context, c *client.Client, id uint64) error {
	return untilHealthy(ctx, func(ctx context.Context, retried bool) error {
		_, err := c.MemberRemove(ctx, id)
		if retried && errors.Is(err, rpctypes.ErrMemberNotFound) {
			return nil
		}
		return err
	})
}

// memberAddedBefore answers as MemberAdd would have for a member with the
// peer URL u that an earlier, timed-out MemberAdd added.
func memberAddedBefore(ctx context.Context, c *client.Client, u string) (*client.MemberAddResponse, error) {
	list, err := c.MemberList(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range list.Members {
		if slices.Contains(m.PeerURLs, u) {
			return &client.MemberAddResponse{Header: list.Header, Member: m, Members: list.Members}, nil
		}
	}
	return nil, fmt.Errorf("no member with peer URL %s in %v", u, memberSummary(list.Members))
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
