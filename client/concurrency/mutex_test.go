package concurrency_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	officialconc "go.etcd.io/etcd/client/v3/concurrency"
)

// TestMutexOrder queues three sessions on one lock: it is granted in the
// order of their keys' create revisions.
func TestMutexOrder(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "locks/order"

	var ms []*concurrency.Mutex
	var ss []*concurrency.Session
	for i := 0; i < 3; i++ {
		ss = append(ss, e.session(t))
		ms = append(ms, concurrency.NewMutex(ss[i], pfx))
	}
	if err := ms[0].Lock(ctx); err != nil {
		t.Fatal(err)
	}
	// The official key layout, so both clients share locks.
	if want := fmt.Sprintf("%s/%x", pfx, int64(ss[0].Lease())); ms[0].Key() != want || ms[0].Header() == nil {
		t.Fatalf("holder key %q (header %v), want %q", ms[0].Key(), ms[0].Header(), want)
	}
	// Queue 2 then 1, so the grant order differs from the creation order
	// of the mutexes.
	granted := make(chan int, 3)
	errs := make([]chan error, 3)
	for _, i := range []int{2, 1} {
		errs[i] = make(chan error, 1)
		go func() {
			err := ms[i].Lock(ctx)
			if err == nil {
				granted <- i
			}
			errs[i] <- err
		}()
		e.waitKeys(t, pfx+"/", 4-i) // 2 keys, then 3
	}
	queue := e.keys(t, pfx+"/")
	if want := []string{ms[0].Key(), ms[2].Key(), ms[1].Key()}; !slices.Equal(queue, want) {
		t.Fatalf("queue %q, want %q", queue, want)
	}
	pending(t, errs[2], "Lock of the second in line")
	if err := ms[0].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, errs[2], 10*time.Second); err != nil {
		t.Fatal(err)
	}
	pending(t, errs[1], "Lock of the third in line")
	if err := ms[2].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, errs[1], 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := []int{<-granted, <-granted}; !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("granted in order %v, want [2 1]", got)
	}
	if err := ms[1].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ms[1].Unlock(ctx); err != concurrency.ErrLockReleased {
		t.Fatalf("second Unlock: %v, want ErrLockReleased", err)
	}
	if ks := e.keys(t, pfx+"/"); len(ks) != 0 {
		t.Fatalf("keys left: %q", ks)
	}
}

// TestMutexTryLock checks ErrLocked, that a refused TryLock leaves no key
// behind, and that our mutex and the official one exclude each other.
func TestMutexTryLock(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "locks/try"

	m1 := concurrency.NewMutex(e.session(t), pfx)
	m2 := concurrency.NewMutex(e.session(t), pfx)
	if err := m1.TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.TryLock(ctx); err != concurrency.ErrLocked {
		t.Fatalf("TryLock while held: %v, want ErrLocked", err)
	}
	if ks := e.keys(t, pfx+"/"); !slices.Equal(ks, []string{m1.Key()}) {
		t.Fatalf("keys %q, want only the holder's", ks)
	}

	// The official client sees the same lock.
	os, err := officialconc.NewSession(e.oracle)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	om := officialconc.NewMutex(os, pfx)
	if err := om.TryLock(ctx); err != officialconc.ErrLocked {
		t.Fatalf("official TryLock while we hold the lock: %v", err)
	}

	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := om.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.TryLock(ctx); err != concurrency.ErrLocked {
		t.Fatalf("TryLock while the official client holds the lock: %v", err)
	}
	if err := om.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	// Locking again in the same session keeps the lock.
	if err := m2.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMutexFencing: a holder whose session ended cannot commit a txn
// guarded by IsOwner, whether its lease was revoked or ran out.
func TestMutexFencing(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)

	guarded := func(m *concurrency.Mutex, val string) bool {
		t.Helper()
		resp, err := e.cli.Txn(ctx).If(m.IsOwner()).Then(client.OpPut("fenced", val)).Commit()
		if err != nil {
			t.Fatal(err)
		}
		return resp.Succeeded
	}

	t.Run("revoked", func(t *testing.T) {
		s := e.session(t)
		m := concurrency.NewMutex(s, "locks/fence-revoke")
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if !guarded(m, "holder") {
			t.Fatal("guarded txn of the holder failed")
		}
		e.revoke(t, s)
		if guarded(m, "former holder") {
			t.Fatal("guarded txn succeeded after the holder's lease was revoked")
		}
	})
	t.Run("expired", func(t *testing.T) {
		s := e.session(t, concurrency.WithTTL(1))
		m := concurrency.NewMutex(s, "locks/fence-expire")
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		// The holder's process stalls: nothing renews the lease.
		s.Orphan()
		e.waitKeys(t, "locks/fence-expire/", 0)
		if guarded(m, "stalled holder") {
			t.Fatal("guarded txn succeeded after the holder's lease expired")
		}
		// And a new holder's fence works.
		m2 := concurrency.NewMutex(e.session(t), "locks/fence-expire")
		if err := m2.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if !guarded(m2, "new holder") || guarded(m, "stalled holder") {
			t.Fatal("fences of the new and the former holder")
		}
	})
	t.Run("unlocked", func(t *testing.T) {
		m := concurrency.NewMutex(e.session(t), "locks/fence-unlock")
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if guarded(m, "unlocked") {
			t.Fatal("guarded txn succeeded after Unlock")
		}
	})
	resp, err := e.oracle.Get(ctx, "fenced")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "new holder" {
		t.Fatalf("fenced key: %v, %v", resp, err)
	}
}

// TestMutexSessionExpiredWhileWaiting ends the session of a waiting Lock:
// it returns ErrSessionExpired (where clientv3 would go on waiting) and its
// key is gone, so the lock passes to the next in line.
func TestMutexSessionExpiredWhileWaiting(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "locks/expire"

	m1 := concurrency.NewMutex(e.session(t), pfx)
	if err := m1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := e.session(t, concurrency.WithTTL(2))
	m2 := concurrency.NewMutex(s2, pfx)
	done := make(chan error, 1)
	go func() { done <- m2.Lock(ctx) }()
	e.waitKeys(t, pfx+"/", 2)
	m3 := concurrency.NewMutex(e.session(t), pfx)
	done3 := make(chan error, 1)
	go func() { done3 <- m3.Lock(ctx) }()
	e.waitKeys(t, pfx+"/", 3)

	e.revoke(t, s2)
	if err := result(t, done, 10*time.Second); err != concurrency.ErrSessionExpired {
		t.Fatalf("Lock of an expired session: %v, want ErrSessionExpired", err)
	}
	if ks := e.keys(t, pfx+"/"); slices.Contains(ks, fmt.Sprintf("%s/%x", pfx, int64(s2.Lease()))) {
		t.Fatalf("key of the expired session left: %q", ks)
	}
	// Locking again on the ended session fails at once.
	if err := m2.Lock(ctx); err != concurrency.ErrSessionExpired {
		t.Fatalf("Lock on an ended session: %v", err)
	}
	if err := m2.TryLock(ctx); err != concurrency.ErrSessionExpired {
		t.Fatalf("TryLock on an ended session: %v", err)
	}
	pending(t, done3, "Lock of the third in line")
	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, done3, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestMutexLockCanceled cancels a waiting Lock: it returns the context's
// error and removes its key.
func TestMutexLockCanceled(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "locks/cancel"

	m1 := concurrency.NewMutex(e.session(t), pfx)
	if err := m1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	m2 := concurrency.NewMutex(e.session(t), pfx)
	lctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := m2.Lock(lctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with an ending context: %v", err)
	}
	if ks := e.keys(t, pfx+"/"); !slices.Equal(ks, []string{m1.Key()}) {
		t.Fatalf("keys %q after a canceled Lock, want only the holder's", ks)
	}
	var nilCtx context.Context
	if err := m2.Lock(nilCtx); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("Lock(nil): %v", err)
	}
	if err := concurrency.NewMutex(nil, pfx).Lock(ctx); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("Lock with a nil session: %v", err)
	}
}

func TestLocker(t *testing.T) {
	e := newEnv(t)
	l := concurrency.NewLocker(e.session(t), "locks/locker")
	l.Lock()
	if ks := e.keys(t, "locks/locker/"); len(ks) != 1 {
		t.Fatalf("keys while locked: %q", ks)
	}
	l.Unlock()
	if ks := e.keys(t, "locks/locker/"); len(ks) != 0 {
		t.Fatalf("keys after Unlock: %q", ks)
	}
}

// TestMutexKeyLostWhileWaiting deletes a waiting Lock's key behind its
// back: when the holder unlocks, Lock finds its key gone and returns
// ErrSessionExpired instead of reporting the lock as held.
func TestMutexKeyLostWhileWaiting(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "locks/lost"

	m1 := concurrency.NewMutex(e.session(t), pfx)
	if err := m1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	m2 := concurrency.NewMutex(e.session(t), pfx)
	done := make(chan error, 1)
	go func() { done <- m2.Lock(ctx) }()
	ks := e.waitKeys(t, pfx+"/", 2)
	if _, err := e.oracle.Delete(ctx, ks[1]); err != nil {
		t.Fatal(err)
	}
	pending(t, done, "Lock")
	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, done, 10*time.Second); err != concurrency.ErrSessionExpired {
		t.Fatalf("Lock with its key gone: %v, want ErrSessionExpired", err)
	}
}
