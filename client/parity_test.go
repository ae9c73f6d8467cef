package client_test

// The tests of this file each hold one behaviour that a program ported from
// clientv3 notices against the official client on the same server: the
// answer, the error value and the shape of the response must be clientv3's.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestParityLoginWithAuthDisabled: credentials given for a cluster whose
// authentication is off connect, and calls go out with no token, as with
// clientv3. When authentication is turned on later, the client logs in.
func TestParityLoginWithAuthDisabled(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	theirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
	if _, err := theirs.Put(ctx, "k", "theirs"); err != nil {
		t.Fatalf("clientv3 with credentials on a cluster without auth: %v", err)
	}
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
	if _, err := ours.Put(ctx, "k", "ours"); err != nil {
		t.Fatalf("Put with credentials on a cluster without auth: %v", err)
	}
	r, err := ours.Get(ctx, "k")
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "ours" {
		t.Fatalf("Get k = %v, %v; want ours", r, err)
	}

	// Authentication turned on under a running client: the client now
	// needs its token and logs in.
	if _, err := theirs.UserAdd(ctx, "root", "rootpw"); err != nil {
		t.Fatal(err)
	}
	if _, err := theirs.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := theirs.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Put(ctx, "k", "after-enable"); err != nil {
		t.Fatalf("Put after auth was enabled: %v", err)
	}
	// A client with no credentials is refused: auth really is on.
	anon := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	if _, err := anon.Put(ctx, "k", "anon"); !errors.Is(err, rpctypes.ErrUserEmpty) {
		t.Fatalf("Put without credentials after auth enable: %v, want %v", err, rpctypes.ErrUserEmpty)
	}
}

// TestParityInvalidSortOption: a get with an unknown sort target or order
// fails with rpctypes.ErrInvalidSortOption itself, as clientv3's does.
func TestParityInvalidSortOption(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	theirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	for _, c := range []struct {
		name   string
		target int
		order  int
	}{{"target", 99, 1}, {"order", 1, 7}, {"negative target", -1, 1}} {
		_, theirsErr := theirs.Get(ctx, "k", clientv3.WithSort(clientv3.SortTarget(c.target), clientv3.SortOrder(c.order)))
		if theirsErr != rpctypes.ErrInvalidSortOption { //nolint:errorlint // the identity is what ported code tests
			t.Fatalf("%s: clientv3: %v, want %v (the oracle changed)", c.name, theirsErr, rpctypes.ErrInvalidSortOption)
		}
		_, err := ours.Get(ctx, "k", client.WithSort(client.SortTarget(c.target), client.SortOrder(c.order)))
		if err != rpctypes.ErrInvalidSortOption { //nolint:errorlint // as above
			t.Errorf("%s: Get: %v, want %v", c.name, err, rpctypes.ErrInvalidSortOption)
		}
		if got := client.Classify(err).Code; got != client.CodeInvalidArgument {
			t.Errorf("%s: Classify = %q, want %q", c.name, got, client.CodeInvalidArgument)
		}
	}
}

// TestParityWatchCloseEndsQuietly: closing the Watcher, or the client, ends
// its watches by closing their channels, with no last response: a program
// ranging over the channel sees nothing it would log as an error.
func TestParityWatchCloseEndsQuietly(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	writer := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})

	// after returns what a watch delivers once close has run, having
	// first seen one event.
	after := func(t *testing.T, key string, ch <-chan watchResult, close func()) []watchResult {
		t.Helper()
		if _, err := writer.Put(ctx, key, "v"); err != nil {
			t.Fatal(err)
		}
		select {
		case r, ok := <-ch:
			if !ok || r.events != 1 {
				t.Fatalf("first response = %+v (open %v), want one event", r, ok)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no event within 30 s")
		}
		close()
		return drainWatch(t, ch)
	}
	theirsCh := func(wch clientv3.WatchChan) <-chan watchResult {
		return relayWatch(wch, func(r clientv3.WatchResponse) watchResult {
			return watchResult{len(r.Events), r.Canceled, fmt.Sprint(r.Err())}
		})
	}
	oursCh := func(wch client.WatchChan) <-chan watchResult {
		return relayWatch(wch, func(r client.WatchResponse) watchResult {
			return watchResult{len(r.Events), r.Canceled, fmt.Sprint(r.Err())}
		})
	}

	t.Run("Watcher.Close", func(t *testing.T) {
		tc := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
		tw := clientv3.NewWatcher(tc)
		if rest := after(t, "wc/theirs", theirsCh(tw.Watch(ctx, "wc/theirs")), func() { tw.Close() }); len(rest) != 0 {
			t.Fatalf("clientv3 delivered %+v after Watcher.Close (the oracle changed)", rest)
		}
		oc := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
		ow := client.NewWatcher(oc)
		if rest := after(t, "wc/ours", oursCh(ow.Watch(ctx, "wc/ours")), func() { ow.Close() }); len(rest) != 0 {
			t.Errorf("delivered %+v after Watcher.Close, want the channel closed with nothing more", rest)
		}
		// A watch started after Close: a closed channel and nothing in it.
		if rest := drainWatch(t, theirsCh(tw.Watch(ctx, "wc/theirs"))); len(rest) != 0 {
			t.Fatalf("clientv3 Watch after Watcher.Close delivered %+v (the oracle changed)", rest)
		}
		if rest := drainWatch(t, oursCh(ow.Watch(ctx, "wc/ours"))); len(rest) != 0 {
			t.Errorf("Watch after Watcher.Close delivered %+v, want a closed channel", rest)
		}
	})
	t.Run("Client.Close", func(t *testing.T) {
		tc := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
		if rest := after(t, "cc/theirs", theirsCh(tc.Watch(ctx, "cc/theirs")), func() { tc.Close() }); len(rest) != 0 {
			t.Fatalf("clientv3 delivered %+v after Client.Close (the oracle changed)", rest)
		}
		oc := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
		if rest := after(t, "cc/ours", oursCh(oc.Watch(ctx, "cc/ours")), func() { oc.Close() }); len(rest) != 0 {
			t.Errorf("delivered %+v after Client.Close, want the channel closed with nothing more", rest)
		}
		if rest := drainWatch(t, theirsCh(tc.Watch(ctx, "cc/theirs"))); len(rest) != 0 {
			t.Fatalf("clientv3 Watch after Client.Close delivered %+v (the oracle changed)", rest)
		}
		if rest := drainWatch(t, oursCh(oc.Watch(ctx, "cc/ours"))); len(rest) != 0 {
			t.Errorf("Watch after Client.Close delivered %+v, want a closed channel", rest)
		}
	})
}

// relayWatch delivers what a watch channel of either client delivers, seen
// through view, and closes with it.
func relayWatch[R any](wch <-chan R, view func(R) watchResult) <-chan watchResult {
	out := make(chan watchResult)
	go func() {
		defer close(out)
		for r := range wch {
			out <- view(r)
		}
	}()
	return out
}

// drainWatch returns what ch delivers until it closes.
func drainWatch(t *testing.T, ch <-chan watchResult) []watchResult {
	t.Helper()
	var out []watchResult
	deadline := time.After(30 * time.Second)
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, r)
		case <-deadline:
			t.Fatal("watch channel still open after 30 s")
		}
	}
}

type watchResult struct {
	events   int
	canceled bool
	err      string
}

// TestParityKeepAliveOnceRevoked: renewing a revoked lease fails with
// rpctypes.ErrLeaseNotFound and still returns the server's response (TTL
// -1), as clientv3 does.
func TestParityKeepAliveOnceRevoked(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	theirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})

	tg, err := theirs.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := theirs.Revoke(ctx, tg.ID); err != nil {
		t.Fatal(err)
	}
	tr, terr := theirs.KeepAliveOnce(ctx, tg.ID)
	if terr != rpctypes.ErrLeaseNotFound || tr == nil { //nolint:errorlint // the identity is what ported code tests
		t.Fatalf("clientv3 KeepAliveOnce(revoked) = %v, %v (the oracle changed)", tr, terr)
	}

	og, err := ours.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Revoke(ctx, og.ID); err != nil {
		t.Fatal(err)
	}
	or, oerr := ours.KeepAliveOnce(ctx, og.ID)
	if oerr != rpctypes.ErrLeaseNotFound { //nolint:errorlint // as above
		t.Fatalf("KeepAliveOnce(revoked): error %v, want %v", oerr, rpctypes.ErrLeaseNotFound)
	}
	if or == nil {
		t.Fatal("KeepAliveOnce(revoked): nil response, want the server's (as clientv3)")
	}
	if or.ID != og.ID || or.TTL != tr.TTL || or.ResponseHeader == nil {
		t.Errorf("KeepAliveOnce(revoked) = {ID %x TTL %d header %v}, want {ID %x TTL %d header set}", or.ID, or.TTL, or.ResponseHeader, og.ID, tr.TTL)
	}
}

// TestParityAlarmDisarmAll: disarming every alarm when none is raised
// answers an empty response with no header, as clientv3 does.
func TestParityAlarmDisarmAll(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	theirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	tr, err := theirs.AlarmDisarm(ctx, &clientv3.AlarmMember{})
	if err != nil {
		t.Fatal(err)
	}
	or, err := ours.AlarmDisarm(ctx, &client.AlarmMember{})
	if err != nil {
		t.Fatalf("AlarmDisarm(all): %v", err)
	}
	if d := coreDiff((*pb.AlarmResponse)(or), (*pb.AlarmResponse)(tr)); d != "" {
		t.Errorf("AlarmDisarm(all) with no alarms differs from clientv3's (-ours +theirs):\n%s", d)
	}
}

// TestParityCompareVersionLeaseID: a LeaseID is an accepted value only for
// LeaseValue; clientv3 panics on it for the other integer targets, and this
// client refuses the txn at Commit.
func TestParityCompareVersionLeaseID(t *testing.T) {
	panicked := func(f func()) (p bool) {
		defer func() { p = recover() != nil }()
		f()
		return false
	}
	theirsTargets := map[string]func(string) clientv3.Cmp{
		"Version": clientv3.Version, "CreateRevision": clientv3.CreateRevision, "ModRevision": clientv3.ModRevision,
	}
	oursTargets := map[string]func(string) client.Cmp{
		"Version": client.Version, "CreateRevision": client.CreateRevision, "ModRevision": client.ModRevision,
	}
	for name, target := range theirsTargets {
		if !panicked(func() { clientv3.Compare(target("k"), "=", clientv3.LeaseID(1)) }) {
			t.Fatalf("clientv3 accepts a LeaseID for %s (the oracle changed)", name)
		}
		if cmp := client.Compare(oursTargets[name]("k"), "=", client.LeaseID(1)); !errors.Is(cmp.Err(), client.ErrInvalidArgument) {
			t.Errorf("Compare(%s(k), =, LeaseID(1)).Err() = %v, want an error wrapping ErrInvalidArgument", name, cmp.Err())
		}
	}
	if panicked(func() { clientv3.Compare(clientv3.LeaseValue("k"), "=", clientv3.LeaseID(1)) }) {
		t.Fatal("clientv3 refuses a LeaseID for LeaseValue (the oracle changed)")
	}
	if cmp := client.Compare(client.LeaseValue("k"), "=", client.LeaseID(1)); cmp.Err() != nil {
		t.Errorf("Compare(LeaseValue(k), =, LeaseID(1)).Err() = %v, want nil", cmp.Err())
	}

	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := ours.Txn(ctx).If(client.Compare(client.Version("k"), "=", client.LeaseID(1))).Then(client.OpPut("k", "v")).Commit()
	if !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("Commit with Compare(Version(k), =, LeaseID(1)): %v, want an error wrapping ErrInvalidArgument", err)
	}
	if r, err := ours.Get(ctx, "k"); err != nil || len(r.Kvs) != 0 {
		t.Fatalf("the refused txn wrote: %v, %v", r, err)
	}
}

// TestParityConfigToken: Config.Token is sent as the auth token with no
// login, and New refuses it together with a Username or Password, with
// clientv3's error value.
func TestParityConfigToken(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	admin := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	login := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
	auth, err := login.Authenticate(ctx, "root", "rootpw")
	if err != nil {
		t.Fatal(err)
	}

	theirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints(), Token: auth.Token})
	if _, err := theirs.Put(ctx, "k", "theirs"); err != nil {
		t.Fatalf("clientv3 with Token: %v (the oracle changed)", err)
	}
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), Token: auth.Token})
	if ours.Token != auth.Token {
		t.Errorf("Client.Token = %q, want the configured token", ours.Token)
	}
	if _, err := ours.Put(ctx, "k", "ours"); err != nil {
		t.Fatalf("Put with Config.Token: %v", err)
	}
	if r, err := ours.Get(ctx, "k"); err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "ours" {
		t.Fatalf("Get with Config.Token = %v, %v", r, err)
	}

	for _, cfg := range []struct{ user, pass string }{{"root", ""}, {"", "rootpw"}, {"root", "rootpw"}} {
		_, theirsErr := clientv3.New(clientv3.Config{Endpoints: cl.Endpoints(), Token: auth.Token, Username: cfg.user, Password: cfg.pass})
		if !errors.Is(theirsErr, clientv3.ErrMutuallyExclusiveCfg) {
			t.Fatalf("clientv3.New(Token, %q/%q) = %v (the oracle changed)", cfg.user, cfg.pass, theirsErr)
		}
		c, err := client.New(client.Config{Endpoints: cl.Endpoints(), Token: auth.Token, Username: cfg.user, Password: cfg.pass})
		if c != nil {
			c.Close()
		}
		if err != client.ErrMutuallyExclusiveCfg { //nolint:errorlint // the identity is what ported code tests
			t.Errorf("New(Token, %q/%q) = %v, want ErrMutuallyExclusiveCfg", cfg.user, cfg.pass, err)
		}
	}
}

// TestParityAPIAdditions holds the names added for ported code against the
// official ones: MaxLeaseTTL, IsConnCanceled, ContextError, Cmp.Clone,
// Client.Dial and the Config fields MaxUnaryRetries, BackoffWaitBetween and
// LogConfig.
func TestParityAPIAdditions(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	theirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ours := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})

	t.Run("MaxLeaseTTL", func(t *testing.T) {
		if client.MaxLeaseTTL != clientv3.MaxLeaseTTL {
			t.Fatalf("MaxLeaseTTL = %d, clientv3's is %d", int64(client.MaxLeaseTTL), int64(clientv3.MaxLeaseTTL))
		}
		if _, err := theirs.Grant(ctx, clientv3.MaxLeaseTTL+1); err != rpctypes.ErrLeaseTTLTooLarge { //nolint:errorlint // identity
			t.Fatalf("clientv3 Grant(MaxLeaseTTL+1): %v (the oracle changed)", err)
		}
		if _, err := ours.Grant(ctx, client.MaxLeaseTTL+1); err != rpctypes.ErrLeaseTTLTooLarge { //nolint:errorlint // identity
			t.Errorf("Grant(MaxLeaseTTL+1): %v, want %v", err, rpctypes.ErrLeaseTTLTooLarge)
		}
	})

	t.Run("IsConnCanceled and ContextError", func(t *testing.T) {
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		errs := []error{
			nil, context.Canceled, context.DeadlineExceeded, errors.New("plain"),
			status.Error(codes.Canceled, "canceled"), status.Error(codes.Unavailable, "transport is closing"),
			status.Error(codes.Unavailable, "connection refused"), status.Error(codes.DeadlineExceeded, "deadline"),
			rpctypes.ErrGRPCEmptyKey, rpctypes.ErrGRPCNoLeader,
			errors.New("grpc: the client connection is closing"),
		}
		for _, err := range errs {
			if got, want := client.IsConnCanceled(err), clientv3.IsConnCanceled(err); got != want {
				t.Errorf("IsConnCanceled(%v) = %v, clientv3 says %v", err, got, want)
			}
			for _, c := range []context.Context{ctx, canceled} {
				if got, want := client.ContextError(c, err), clientv3.ContextError(c, err); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("ContextError(ctx err %v, %v) = %v, clientv3 says %v", c.Err(), err, got, want)
				}
			}
		}
		if got := client.ContextError(ctx, rpctypes.ErrGRPCEmptyKey); got != rpctypes.ErrEmptyKey { //nolint:errorlint // identity
			t.Errorf("ContextError(ErrGRPCEmptyKey) = %v, want rpctypes.ErrEmptyKey itself", got)
		}
		// What a call on a closed client returns is a canceled connection
		// for both.
		closedOurs := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
		closedOurs.Close()
		_, err := closedOurs.Get(ctx, "k")
		if !client.IsConnCanceled(err) {
			t.Errorf("IsConnCanceled(Get after Close: %v) = false", err)
		}
	})

	t.Run("Cmp.Clone", func(t *testing.T) {
		orig := client.Compare(client.Value("k"), "=", "v").WithRange("z")
		clone := orig.Clone()
		orig.ValueBytes()[0] = 'x'
		orig.KeyBytes()[0] = 'j'
		orig.RangeBytes()[0] = 'y'
		if string(clone.ValueBytes()) != "v" || string(clone.KeyBytes()) != "k" || string(clone.RangeBytes()) != "z" {
			t.Errorf("the clone changed with the original: key %q value %q range %q", clone.KeyBytes(), clone.ValueBytes(), clone.RangeBytes())
		}
		want := client.Compare(client.Value("k"), "=", "v").WithRange("z")
		if d := coreDiff(clone.GetCompare(), want.GetCompare()); d != "" {
			t.Errorf("clone differs:\n%s", d)
		}
	})

	t.Run("Dial", func(t *testing.T) {
		if _, err := theirs.Put(ctx, "dial/k", "v"); err != nil {
			t.Fatal(err)
		}
		conn, err := ours.Dial(cl.Endpoints()[0])
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer conn.Close()
		r, err := pb.NewKVClient(conn).Range(ctx, &pb.RangeRequest{Key: []byte("dial/k")})
		if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
			t.Fatalf("Range on the dialed connection = %v, %v", r, err)
		}
		if _, err := ours.Dial("ftp://x:1"); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("Dial(ftp://x:1) = %v, want ErrInvalidArgument", err)
		}
	})

	t.Run("MaxUnaryRetries", func(t *testing.T) {
		// Every Range fails as a lost connection would; a read is
		// repeated until MaxUnaryRetries sendings were made.
		failRange := func(n *atomic.Int32) grpc.DialOption {
			return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				if strings.HasSuffix(method, "/Range") {
					n.Add(1)
					return status.Error(codes.Unavailable, "injected")
				}
				return invoker(ctx, method, req, reply, cc, opts...)
			})
		}
		var theirsN, oursN atomic.Int32
		tc := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints(), MaxUnaryRetries: 3, BackoffWaitBetween: time.Millisecond, DialOptions: []grpc.DialOption{failRange(&theirsN)}})
		oc := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), MaxUnaryRetries: 3, BackoffWaitBetween: time.Millisecond, DialOptions: []grpc.DialOption{failRange(&oursN)}})
		if _, err := tc.Get(ctx, "k"); err == nil {
			t.Fatal("clientv3 Get succeeded through the failing interceptor")
		}
		_, err := oc.Get(ctx, "k")
		if status.Code(err) != codes.Unavailable {
			t.Errorf("Get: %v, want the Unavailable error", err)
		}
		if oursN.Load() != theirsN.Load() {
			t.Errorf("Get was sent %d times with MaxUnaryRetries 3; clientv3 sent it %d times", oursN.Load(), theirsN.Load())
		}
	})

	t.Run("LogConfig", func(t *testing.T) {
		bad := zap.NewProductionConfig()
		bad.Encoding = "no-such-encoding"
		c, err := client.New(client.Config{Endpoints: cl.Endpoints(), LogConfig: &bad})
		if c != nil {
			c.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "LogConfig") {
			t.Errorf("New with a bad LogConfig: %v, want an error naming LogConfig", err)
		}
		good := zap.NewDevelopmentConfig()
		good.OutputPaths, good.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
		good.Level = zap.NewAtomicLevelAt(zap.WarnLevel)
		lc := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), LogConfig: &good})
		if !lc.GetLogger().Core().Enabled(zap.WarnLevel) || lc.GetLogger().Core().Enabled(zap.InfoLevel) {
			t.Error("the client's logger is not the one LogConfig describes")
		}
	})
}
