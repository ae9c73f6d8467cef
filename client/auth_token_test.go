package client_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
)

// authTTL is the simple-token lifetime of the auth tests' server, in
// seconds. etcd checks expiry once a second, and every use of a token
// extends it, so a token is surely gone after authTTL+1 s without use.
const authTTL = 1

// authIdle is how long the auth tests leave the client idle for its token
// to expire.
const authIdle = (authTTL+1)*time.Second + 500*time.Millisecond

// startAuthCluster starts a server with short-lived tokens and auth on:
// root (password "rootpw") and alice (password "alicepw", read-write on
// the prefix "app/" and nothing else).
func startAuthCluster(t *testing.T) *etcdtest.Cluster {
	t.Helper()
	cl := etcdtest.StartT(t, etcdtest.Options{
		AuthTokenTTL: authTTL,
		// bcrypt at its default cost takes seconds per login under -race.
		Configure: func(cfg *embed.Config) { cfg.BcryptCost = uint(bcrypt.MinCost) },
	})
	ctx := coreCtx(t)
	adm := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints()})
	steps := []func() error{
		func() error { _, err := adm.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := adm.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := adm.RoleAdd(ctx, "app-rw"); return err },
		func() error {
			_, err := adm.RoleGrantPermission(ctx, "app-rw", "app/", clientv3.GetPrefixRangeEnd("app/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := adm.UserAdd(ctx, "alice", "alicepw"); return err },
		func() error { _, err := adm.UserGrantRole(ctx, "alice", "app-rw"); return err },
		func() error { _, err := adm.AuthEnable(ctx); return err },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}
	return cl
}

// loginCounter counts the Authenticate calls a client makes.
type loginCounter struct{ n atomic.Int64 }

func (lc *loginCounter) option() grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == "/etcdserverpb.Auth/Authenticate" {
			lc.n.Add(1)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	})
}

func TestAuthTokenRefresh(t *testing.T) {
	cl := startAuthCluster(t)
	ctx := coreCtx(t)
	var logins loginCounter
	c := coreOurs(t, client.Config{
		Endpoints:   cl.Endpoints(),
		Username:    "alice",
		Password:    "alicepw",
		DialOptions: []grpc.DialOption{logins.option()},
	})
	if n := logins.n.Load(); n != 1 {
		t.Errorf("New with DialTimeout logged in %d times, want 1", n)
	}
	if _, err := c.Put(ctx, "app/0", "v"); err != nil {
		t.Fatalf("Put as alice: %v", err)
	}

	// Each round leaves the token to expire, then uses the client another
	// way: every kind of call must log in again by itself.
	rounds := []struct {
		name string
		call func() error
	}{
		{"put", func() error { _, err := c.Put(ctx, "app/1", "v"); return err }},
		{"get stream", func() error {
			ch, err := c.GetStream(ctx, "app/", client.WithPrefix())
			if err != nil {
				return err
			}
			r, err := client.GetStreamToGetResponse(ch)
			if err == nil && len(r.Kvs) != 2 {
				t.Errorf("GetStream read %d keys, want 2", len(r.Kvs))
			}
			return err
		}},
		{"read range", func() error {
			r, err := c.ReadRange(ctx, "app/", client.WithPrefix())
			if err != nil {
				return err
			}
			defer r.Close()
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				n++
			}
			if n != 2 {
				t.Errorf("ReadRange read %d keys, want 2", n)
			}
			return nil
		}},
		{"txn", func() error {
			_, err := c.Txn(ctx).If(client.Compare(client.Version("app/0"), ">", 0)).Then(client.OpPut("app/2", "v")).Commit()
			return err
		}},
		{"get", func() error { _, err := c.Get(ctx, "app/", client.WithPrefix()); return err }},
	}
	for _, r := range rounds {
		time.Sleep(authIdle)
		before := logins.n.Load()
		if err := r.call(); err != nil {
			t.Errorf("%s after the token expired: %v", r.name, err)
		}
		t.Logf("%s: %d login(s)", r.name, logins.n.Load()-before)
	}
	if n := logins.n.Load(); n < 2 {
		t.Errorf("%d logins over %d idle periods past the token TTL: the token never expired, the test proves nothing", n, len(rounds))
	}

	// Concurrent calls that all find the token expired share one login.
	shared := false
	for attempt := 0; attempt < 3 && !shared; attempt++ {
		time.Sleep(authIdle)
		before := logins.n.Load()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := c.Get(ctx, "app/", client.WithPrefix())
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Get after expiry: %v", err)
			}
		}
		switch d := logins.n.Load() - before; d {
		case 0:
			t.Logf("attempt %d: the token had not expired yet", attempt)
		case 1:
			shared = true
		default:
			t.Fatalf("16 concurrent calls logged in %d times, want 1", d)
		}
	}
	if !shared {
		t.Error("the token never expired before the concurrent calls")
	}
}

func TestAuthErrors(t *testing.T) {
	cl := startAuthCluster(t)
	ctx := coreCtx(t)

	t.Run("permission denied", func(t *testing.T) {
		c := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), Username: "alice", Password: "alicepw"})
		for name, call := range map[string]func() error{
			"put":    func() error { _, err := c.Put(ctx, "secret", "v"); return err },
			"get":    func() error { _, err := c.Get(ctx, "secret"); return err },
			"delete": func() error { _, err := c.Delete(ctx, "", client.WithPrefix()); return err },
			"txn": func() error {
				_, err := c.Txn(ctx).Then(client.OpPut("app/ok", "v"), client.OpPut("other", "v")).Commit()
				return err
			},
		} {
			err := call()
			if err != rpctypes.ErrPermissionDenied || !errors.Is(err, rpctypes.ErrPermissionDenied) {
				t.Errorf("%s outside alice's prefix: %#v, want rpctypes.ErrPermissionDenied", name, err)
			}
			if got := client.Classify(err); got.Code != client.CodePermissionDenied || got.Retryable {
				t.Errorf("Classify(%v) = %+v", err, got)
			}
		}
		root := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
		if _, err := root.Put(ctx, "secret", "v"); err != nil {
			t.Errorf("root Put: %v", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		for _, user := range []string{"alice", "nobody"} {
			_, err := client.New(client.Config{Endpoints: cl.Endpoints(), Username: user, Password: "wrong", DialTimeout: 10 * time.Second})
			if !errors.Is(err, rpctypes.ErrAuthFailed) {
				t.Errorf("New as %s with a wrong password: %v, want rpctypes.ErrAuthFailed", user, err)
			}
			if got := client.Classify(err); got.Code != client.CodeAuthFailed || got.Retryable {
				t.Errorf("Classify(%v) = %+v, want auth_failed, not retryable", err, got)
			}
		}
		// Without DialTimeout the first call logs in, and fails.
		var logins loginCounter
		c, err := client.New(client.Config{Endpoints: cl.Endpoints(), Username: "alice", Password: "wrong", DialOptions: []grpc.DialOption{logins.option()}})
		if err != nil {
			t.Fatalf("New without DialTimeout: %v", err)
		}
		defer c.Close()
		_, err = c.Get(ctx, "app/x")
		if !errors.Is(err, rpctypes.ErrAuthFailed) {
			t.Errorf("Get with a wrong password: %v, want rpctypes.ErrAuthFailed", err)
		}
		if n := logins.n.Load(); n != 1 {
			t.Errorf("a refused login was tried %d times, want 1", n)
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		c := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})
		_, err := c.Get(ctx, "app/x")
		if !errors.Is(err, rpctypes.ErrUserEmpty) && !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Errorf("Get without credentials on an auth cluster: %v", err)
		}
	})
}
