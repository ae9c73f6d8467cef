package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorClassify(t *testing.T) {
	connErr := &client.ConnectError{Err: context.DeadlineExceeded, Endpoint: "127.0.0.1:1", Cause: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}
	cases := []struct {
		err       error
		code      client.Code
		retryable bool
	}{
		{nil, client.CodeOK, false},
		// Server errors, as values and as the gRPC statuses they travel as.
		{rpctypes.ErrCompacted, client.CodeCompacted, false},
		{rpctypes.ErrGRPCCompacted, client.CodeCompacted, false},
		{rpctypes.ErrFutureRev, client.CodeFutureRevision, false},
		{rpctypes.ErrGRPCFutureRev, client.CodeFutureRevision, false},
		{rpctypes.ErrEmptyKey, client.CodeEmptyKey, false},
		{fmt.Errorf("compare: %w", rpctypes.ErrEmptyKey), client.CodeEmptyKey, false},
		{rpctypes.ErrKeyNotFound, client.CodeKeyNotFound, false},
		{rpctypes.ErrTooManyOps, client.CodeTooManyOps, false},
		{rpctypes.ErrGRPCTooManyOps, client.CodeTooManyOps, false},
		{rpctypes.ErrDuplicateKey, client.CodeDuplicateKey, false},
		{rpctypes.ErrRequestTooLarge, client.CodeRequestTooLarge, false},
		{fmt.Errorf("%w (grpc: trying to send message larger than max (3 vs. 2))", rpctypes.ErrRequestTooLarge), client.CodeRequestTooLarge, false},
		{status.Error(codes.ResourceExhausted, "trying to send message larger than max (3 vs. 2)"), client.CodeRequestTooLarge, false},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (3 vs. 2)"), client.CodeRequestTooLarge, false},
		{rpctypes.ErrLeaseNotFound, client.CodeLeaseNotFound, false},
		{rpctypes.ErrGRPCLeaseNotFound, client.CodeLeaseNotFound, false},
		{rpctypes.ErrAuthFailed, client.CodeAuthFailed, false},
		{fmt.Errorf("etcdclient: login as %q: %w", "u", rpctypes.ErrAuthFailed), client.CodeAuthFailed, false},
		{rpctypes.ErrPermissionDenied, client.CodePermissionDenied, false},
		{rpctypes.ErrInvalidAuthToken, client.CodeInvalidToken, true},
		{rpctypes.ErrAuthOldRevision, client.CodeInvalidToken, true},
		{rpctypes.ErrNoLeader, client.CodeNoLeader, true},
		{rpctypes.ErrGRPCNoLeader, client.CodeNoLeader, true},
		{status.Error(codes.Unavailable, "etcdserver: no leader"), client.CodeNoLeader, true},
		{rpctypes.ErrTooManyRequests, client.CodeUnavailable, true},
		{rpctypes.ErrTimeout, client.CodeUnavailable, true},
		{rpctypes.ErrTimeoutDueToLeaderFail, client.CodeUnavailable, true},
		{rpctypes.ErrInvalidSortOption, client.CodeInvalidArgument, false},
		{rpctypes.ErrValueProvided, client.CodeInvalidArgument, false},
		{rpctypes.ErrLeaseProvided, client.CodeInvalidArgument, false},
		// Context errors, bare and wrapped.
		{context.Canceled, client.CodeCanceled, false},
		{fmt.Errorf("get: %w", context.Canceled), client.CodeCanceled, false},
		{context.DeadlineExceeded, client.CodeDeadlineExceeded, true},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), client.CodeDeadlineExceeded, true},
		{client.ErrClientClosed, client.CodeCanceled, false},
		// A call that found nothing reachable is unavailable, although it
		// also is a deadline error.
		{connErr, client.CodeUnavailable, true},
		{fmt.Errorf("put: %w", connErr), client.CodeUnavailable, true},
		{&client.ConnectError{Err: context.Canceled, Endpoint: "127.0.0.1:1", Cause: connErr.Cause}, client.CodeCanceled, false},
		// Bad input.
		{client.ErrInvalidArgument, client.CodeInvalidArgument, false},
		{fmt.Errorf("%w: nil context", client.ErrInvalidArgument), client.CodeInvalidArgument, false},
		// Bare gRPC statuses.
		{status.Error(codes.Unavailable, "connection reset"), client.CodeUnavailable, true},
		{status.Error(codes.DeadlineExceeded, "deadline"), client.CodeDeadlineExceeded, true},
		{status.Error(codes.Canceled, "canceled"), client.CodeCanceled, false},
		{status.Error(codes.InvalidArgument, "bad"), client.CodeInvalidArgument, false},
		{status.Error(codes.PermissionDenied, "no"), client.CodePermissionDenied, false},
		{status.Error(codes.Unauthenticated, "who"), client.CodeInvalidToken, true},
		{status.Error(codes.ResourceExhausted, "slow down"), client.CodeUnavailable, true},
		{status.Error(codes.Internal, "oops"), client.CodeInternal, false},
		{status.Error(codes.Unimplemented, "RangeStream does not support custom sort orders"), client.CodeInternal, false},
		{errors.New("something else"), client.CodeInternal, false},
	}
	for _, tc := range cases {
		got := client.Classify(tc.err)
		if got.Code != tc.code || got.Retryable != tc.retryable {
			t.Errorf("Classify(%v) = %+v, want {%s %v}", tc.err, got, tc.code, tc.retryable)
		}
	}
}

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// checkConnectError checks the error of a call that found nothing
// reachable: a *ConnectError naming the cause, still a deadline error.
func checkConnectError(t *testing.T, err error, cause string) {
	t.Helper()
	var ce *client.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %T %v, want a *client.ConnectError", err, err)
	}
	if !strings.Contains(err.Error(), cause) {
		t.Errorf("message %q does not name %q", err, cause)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
	if got := client.Classify(err); got.Code != client.CodeUnavailable || !got.Retryable {
		t.Errorf("Classify(%v) = %+v, want unavailable, retryable", err, got)
	}
}

func TestErrorConnectionRefused(t *testing.T) {
	addr := closedPort(t)

	c, err := client.New(client.Config{Endpoints: []string{addr}})
	if err != nil {
		t.Fatalf("New without DialTimeout must not connect: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = c.Get(ctx, "k")
	cancel()
	checkConnectError(t, err, "connection refused")
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("message %q does not name the endpoint %s", err, addr)
	}

	// A write and a txn fail the same way.
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = c.Txn(ctx).Then(client.OpPut("k", "v")).Commit()
	cancel()
	checkConnectError(t, err, "connection refused")

	// A caller that gives up (cancel) sees context.Canceled.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = c.Put(ctx, "k", "v")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled while unreachable: %v, want context.Canceled", err)
	}
	if got := client.Classify(err); got.Code != client.CodeCanceled || got.Retryable {
		t.Errorf("Classify(%v) = %+v, want canceled, not retryable", err, got)
	}

	c2, err := client.New(client.Config{Endpoints: []string{addr}, DialTimeout: 300 * time.Millisecond})
	if c2 != nil {
		c2.Close()
		t.Fatal("New with DialTimeout returned a client with nothing reachable")
	}
	checkConnectError(t, err, "connection refused")
}

// TestErrorClosedClient checks calls after Close.
func TestErrorClosedClient(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	c, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := coreCtx(t)
	_, err = c.Get(ctx, "k")
	if err == nil {
		t.Fatal("Get after Close succeeded")
	}
	if got := client.Classify(err); got.Code != client.CodeCanceled {
		t.Errorf("Get after Close: %v classified %+v, want canceled", err, got)
	}
}

// TestErrorRequestTooLarge checks the three places a request can be too
// large: above our MaxCallSendMsgSize (refused before sending), above the
// server's gRPC limit, above the server's --max-request-bytes.
func TestErrorRequestTooLarge(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	small := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), MaxCallSendMsgSize: 64 * 1024})
	smallTheirs := coreTheirs(t, clientv3.Config{Endpoints: cl.Endpoints(), MaxCallSendMsgSize: 64 * 1024})
	roomy := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), MaxCallSendMsgSize: 8 << 20})

	val := strings.Repeat("v", 100*1024)
	_, err := small.Put(ctx, "k", val)
	if !errors.Is(err, rpctypes.ErrRequestTooLarge) || !strings.Contains(err.Error(), "larger than max") {
		t.Errorf("Put above MaxCallSendMsgSize: %v, want rpctypes.ErrRequestTooLarge naming the limit", err)
	}
	if got := client.Classify(err); got.Code != client.CodeRequestTooLarge || got.Retryable {
		t.Errorf("Classify(%v) = %+v", err, got)
	}
	_, err = small.Txn(ctx).Then(client.OpPut("k", val)).Commit()
	if !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Errorf("Txn above MaxCallSendMsgSize: %v", err)
	}
	_, terr := smallTheirs.Put(ctx, "k", val)
	if got := client.Classify(terr); terr == nil || got.Code != client.CodeRequestTooLarge {
		t.Errorf("clientv3's error %v classified %+v, want request_too_large", terr, got)
	}

	// Above the server's gRPC limit (1.5 MiB + 512 KiB).
	_, err = roomy.Put(ctx, "k", strings.Repeat("v", 3<<20))
	if !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Errorf("Put above the server's gRPC limit: %v, want rpctypes.ErrRequestTooLarge", err)
	}
	// Above --max-request-bytes: the server's own error value.
	_, err = roomy.Put(ctx, "k", strings.Repeat("v", 1600*1024))
	if err != rpctypes.ErrRequestTooLarge {
		t.Errorf("Put above max-request-bytes: %#v, want rpctypes.ErrRequestTooLarge", err)
	}
	// Nothing was written, and the small client still works.
	r, err := small.Get(ctx, "k")
	if err != nil || len(r.Kvs) != 0 {
		t.Errorf("after refused puts: %v, %v", r, err)
	}
}

// TestErrorResponseTooLarge reads a value larger than the client's
// MaxCallRecvMsgSize: the error says it was the response, keeps the code
// request_too_large, and the same read with a roomy client works.
func TestErrorResponseTooLarge(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ctx := coreCtx(t)
	// Sends are roomy, so that a large Put reaches the server's limit.
	small := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), MaxCallRecvMsgSize: 64 * 1024, MaxCallSendMsgSize: 8 << 20})
	roomy := coreOurs(t, client.Config{Endpoints: cl.Endpoints()})

	val := strings.Repeat("v", 100*1024)
	if _, err := roomy.Put(ctx, "big", val); err != nil {
		t.Fatal(err)
	}
	// The request is small; only the answer is above the limit.
	_, err := small.Get(ctx, "big")
	if !errors.Is(err, client.ErrResponseTooLarge) || errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Fatalf("Get above MaxCallRecvMsgSize: %v, want ErrResponseTooLarge only", err)
	}
	if !strings.Contains(err.Error(), "MaxCallRecvMsgSize") || !strings.Contains(err.Error(), "65536") {
		t.Errorf("message %q does not name the limit", err)
	}
	if got := client.Classify(err); got.Code != client.CodeRequestTooLarge || got.Retryable {
		t.Errorf("Classify(%v) = %+v", err, got)
	}
	if r, err := roomy.Get(ctx, "big"); err != nil || len(r.Kvs) != 1 {
		t.Fatalf("roomy Get: %v, %v", r, err)
	}
	// A small answer on the same client is fine.
	if _, err := small.Get(ctx, "big", client.WithCountOnly()); err != nil {
		t.Errorf("count-only Get: %v", err)
	}
	// The server refusing a large request is still about the request,
	// even on a client with a small receive limit.
	_, err = small.Put(ctx, "k", strings.Repeat("v", 3<<20))
	if !errors.Is(err, rpctypes.ErrRequestTooLarge) || errors.Is(err, client.ErrResponseTooLarge) || !strings.Contains(err.Error(), "received message") {
		t.Errorf("Put above the server's gRPC limit: %v, want rpctypes.ErrRequestTooLarge from the server", err)
	}
}
