package concurrency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestSessionLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)

	s, err := concurrency.NewSession(e.cli)
	if err != nil {
		t.Fatal(err)
	}
	if s.Client() != e.cli || s.Lease() == client.NoLease || s.Err() != nil {
		t.Fatalf("session: client %p, lease %x, err %v", s.Client(), s.Lease(), s.Err())
	}
	ttl, err := e.oracle.TimeToLive(ctx, clientv3.LeaseID(s.Lease()))
	if err != nil || ttl.GrantedTTL != 60 {
		t.Fatalf("default session TTL: %+v, %v", ttl, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done open after Close")
	}
	if s.Ctx().Err() == nil {
		t.Fatal("Ctx live after Close")
	}
	if ttl, err := e.oracle.TimeToLive(ctx, clientv3.LeaseID(s.Lease())); err != nil || ttl.TTL != -1 {
		t.Fatalf("lease after Close: %+v, %v", ttl, err)
	}

	// Orphan stops the keepalive but leaves the lease; another session
	// takes it over with WithLease.
	o := e.session(t, concurrency.WithTTL(5))
	o.Orphan()
	if !errors.Is(o.Err(), context.Canceled) {
		t.Fatalf("Err after Orphan = %v", o.Err())
	}
	if ttl, err := e.oracle.TimeToLive(ctx, clientv3.LeaseID(o.Lease())); err != nil || ttl.TTL <= 0 || ttl.GrantedTTL != 5 {
		t.Fatalf("lease after Orphan: %+v, %v", ttl, err)
	}
	taken := e.session(t, concurrency.WithLease(o.Lease()))
	if taken.Lease() != o.Lease() {
		t.Fatalf("WithLease session has lease %x, want %x", taken.Lease(), o.Lease())
	}

	// WithContext: the session ends with its context.
	sctx, cancel := context.WithCancel(ctx)
	w := e.session(t, concurrency.WithContext(sctx))
	cancel()
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session still running after its context ended")
	}
}

func TestSessionEndsWithLease(t *testing.T) {
	e := newEnv(t)
	s := e.session(t, concurrency.WithTTL(2))
	e.revoke(t, s)
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session still running after its lease was revoked")
	}
	if err := s.Err(); err != rpctypes.ErrLeaseNotFound {
		t.Fatalf("Err = %v, want rpctypes.ErrLeaseNotFound", err)
	}
	if s.Ctx().Err() == nil {
		t.Fatal("Ctx live after the session ended")
	}
}

func TestSessionBadInput(t *testing.T) {
	e := newEnv(t)
	var nilCtx context.Context
	for name, opts := range map[string][]concurrency.SessionOption{
		"WithTTL(0)":        {concurrency.WithTTL(0)},
		"WithTTL(-1)":       {concurrency.WithTTL(-1)},
		"WithContext(nil)":  {concurrency.WithContext(nilCtx)},
		"nil SessionOption": {nil},
	} {
		if _, err := concurrency.NewSession(e.cli, opts...); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("NewSession with %s: %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := concurrency.NewSession(nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("NewSession(nil): %v", err)
	}
}
