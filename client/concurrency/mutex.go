package concurrency

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

var (
	// ErrLocked is returned by TryLock when another session holds the lock.
	ErrLocked = errors.New("mutex: locked by another session")
	// ErrSessionExpired is returned by Lock, TryLock and Campaign when the
	// session has ended, before or while they waited: whatever they were
	// after would be lost with the session's lease.
	// It wraps client.ErrLeaseExpired, so client.Classify calls it
	// lease_not_found.
	ErrSessionExpired error = sessionExpired{}
	// ErrLockReleased is returned by Unlock when the mutex is not held.
	ErrLockReleased = errors.New("mutex: lock has already been released")
)

type sessionExpired struct{}

func (sessionExpired) Error() string { return "mutex: session is expired" }
func (sessionExpired) Unwrap() error { return client.ErrLeaseExpired }

// releasedKey marks a Mutex whose key has been given up; it is a key no
// session creates, so IsOwner fails after Unlock.
const releasedKey = "\x00"

// Mutex is a distributed lock held by a session. Each contender creates one
// key under the lock's prefix, attached to its session's lease; the key
// with the lowest create revision holds the lock. A Mutex is not safe for
// concurrent use: use one per goroutine, with the same session if wanted.
type Mutex struct {
	s     *Session
	pfx   string
	myKey string
	myRev int64
	hdr   *pb.ResponseHeader
}

// NewMutex returns a mutex for the lock named by pfx (its keys live under
// pfx + "/").
func NewMutex(s *Session, pfx string) *Mutex {
	return &Mutex{s: s, pfx: pfx + "/", myRev: -1}
}

// TryLock takes the lock if no other session holds it, and returns
// ErrLocked (after removing its own key) if one does. ctx bounds the
// requests.
func (m *Mutex) TryLock(ctx context.Context) error {
	if err := m.start("TryLock", ctx); err != nil {
		return err
	}
	resp, err := m.tryAcquire(ctx)
	if err != nil {
		return err
	}
	if m.owns(resp) {
		m.hdr = resp.Header
		return nil
	}
	err = deleteOwn(ctx, m.s.conn, m.myKey, m.myRev)
	m.reset()
	if err != nil {
		return err
	}
	return ErrLocked
}

// Lock takes the lock, waiting for the sessions queued before this one to
// release it. It returns ErrSessionExpired if the session ends before or
// while it waits; if ctx ends or waiting fails, it removes its key and
// returns the error.
func (m *Mutex) Lock(ctx context.Context) error {
	if err := m.start("Lock", ctx); err != nil {
		return err
	}
	resp, err := m.tryAcquire(ctx)
	if err != nil {
		return err
	}
	if m.owns(resp) {
		m.hdr = resp.Header
		return nil
	}
	cli := m.s.conn
	wctx, cancel := sessionCtx(ctx, m.s)
	werr := waitDeletes(wctx, cli, m.pfx, m.myRev-1)
	cancel()
	if !m.s.alive() && ctx.Err() == nil {
		return m.expired(ctx)
	}
	if werr != nil {
		m.abandon(ctx)
		return werr
	}
	// The keys ahead are gone; ours must still be the one created above,
	// or the session's lease expired while we waited.
	gresp, err := cli.Get(ctx, m.myKey)
	if err != nil {
		m.abandon(ctx)
		return err
	}
	if len(gresp.Kvs) == 0 || gresp.Kvs[0].CreateRevision != m.myRev {
		m.reset()
		return ErrSessionExpired
	}
	m.hdr = gresp.Header
	return nil
}

// start checks the arguments and the session before taking the lock.
func (m *Mutex) start(name string, ctx context.Context) error {
	if err := checkArgs("Mutex."+name, ctx, m.s); err != nil {
		return err
	}
	if !m.s.alive() {
		return ErrSessionExpired
	}
	return nil
}

// tryAcquire creates this session's key unless it exists (a session that
// holds or waits for the lock already keeps its place) and reads the
// current holder in the same transaction.
func (m *Mutex) tryAcquire(ctx context.Context) (*client.TxnResponse, error) {
	cli := m.s.conn
	m.myKey = fmt.Sprintf("%s%x", m.pfx, int64(m.s.Lease()))
	resp, err := cli.Txn(ctx).
		If(client.Compare(client.CreateRevision(m.myKey), "=", 0)).
		Then(client.OpPut(m.myKey, "", client.WithLease(m.s.Lease())), client.OpGet(m.pfx, client.WithFirstCreate()...)).
		Else(client.OpGet(m.myKey), client.OpGet(m.pfx, client.WithFirstCreate()...)).
		Commit()
	if err != nil {
		m.reset()
		return nil, fmt.Errorf("concurrency: enqueue %q: %w", m.myKey, err)
	}
	m.myRev = resp.Header.Revision
	if !resp.Succeeded {
		m.myRev = resp.Responses[0].GetResponseRange().Kvs[0].CreateRevision
	}
	return resp, nil
}

// owns says whether the holder read by tryAcquire is this session.
func (m *Mutex) owns(resp *client.TxnResponse) bool {
	holder := resp.Responses[1].GetResponseRange().Kvs
	return len(holder) == 0 || holder[0].CreateRevision == m.myRev
}

// expired gives up a key whose session ended.
func (m *Mutex) expired(ctx context.Context) error {
	m.abandon(ctx)
	return ErrSessionExpired
}

// abandon deletes this session's key, if still the one created, so it does
// not block the sessions behind it. It is best effort: the key goes with
// the lease anyway.
func (m *Mutex) abandon(ctx context.Context) {
	if err := deleteOwn(ctx, m.s.conn, m.myKey, m.myRev); err != nil {
		m.s.conn.GetLogger().Debug("concurrency: could not delete abandoned lock key")
	}
	m.reset()
}

func (m *Mutex) reset() {
	m.myKey = releasedKey
	m.myRev = -1
}

// Unlock releases the lock, or ErrLockReleased if it is not held.
func (m *Mutex) Unlock(ctx context.Context) error {
	if err := checkArgs("Mutex.Unlock", ctx, m.s); err != nil {
		return err
	}
	if m.myKey == "" || m.myKey == releasedKey || m.myRev <= 0 {
		return ErrLockReleased
	}
	if _, err := m.s.conn.Delete(ctx, m.myKey); err != nil {
		return fmt.Errorf("concurrency: unlock %q: %w", m.myKey, err)
	}
	m.reset()
	return nil
}

// IsOwner is a comparison that holds only while this mutex holds the lock:
// put it in the If of a transaction so the transaction's writes fail once
// the lock is lost (the session expired, the lock was released).
func (m *Mutex) IsOwner() client.Cmp {
	return client.Compare(client.CreateRevision(m.myKey), "=", m.myRev)
}

// Key returns the key that holds this mutex's place in the lock's queue.
func (m *Mutex) Key() string { return m.myKey }

// Header returns the header of the response that granted the lock.
func (m *Mutex) Header() *pb.ResponseHeader { return m.hdr }

type lockerMutex struct{ *Mutex }

// Lock takes the lock with the client's context. sync.Locker cannot return
// an error, so a failure panics.
func (lm *lockerMutex) Lock() {
	if lm.s == nil {
		panic("concurrency: Locker.Lock: nil session")
	}
	if err := lm.Mutex.Lock(lm.s.conn.Ctx()); err != nil {
		panic(fmt.Sprintf("concurrency: Locker.Lock: %v", err))
	}
}

// Unlock releases the lock with the client's context; a failure panics.
func (lm *lockerMutex) Unlock() {
	if lm.s == nil {
		panic("concurrency: Locker.Unlock: nil session")
	}
	if err := lm.Mutex.Unlock(lm.s.conn.Ctx()); err != nil {
		panic(fmt.Sprintf("concurrency: Locker.Unlock: %v", err))
	}
}

// NewLocker returns a sync.Locker on the lock named by pfx. Its methods
// panic when locking or unlocking fails (sync.Locker has no error result);
// use a Mutex to handle errors.
func NewLocker(s *Session, pfx string) sync.Locker {
	return &lockerMutex{NewMutex(s, pfx)}
}
