package client

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
)

// KeepAliveError returns why a channel returned by KeepAlive closed, or nil
// while it is open (and for a channel KeepAlive did not return). It can be
// called any number of times, for as long as the caller holds the channel.
//
// The reasons, each testable with errors.Is:
//
//   - rpctypes.ErrLeaseNotFound: the server answered that the lease does not
//     exist: it expired or was revoked by another client.
//   - ErrLeaseRevoked: the lease was revoked through the same Lease.
//   - context.Canceled or context.DeadlineExceeded: the context given to
//     KeepAlive ended.
//   - ErrClientClosed: the Lease or its Client was closed.
//   - ErrKeepAliveHalted wrapping ErrLeaseExpired: no renewal was
//     acknowledged within the lease's TTL, so the lease must be presumed
//     expired. It also wraps the last error the keepalive stream met (a
//     codes.Unavailable status when requests simply went unanswered), so
//     errors.Is(err, rpctypes.ErrNoLeader) holds when the members reached
//     had no leader (a quorum is down or cut off), and Classify gives the
//     code of that error: no_leader or unavailable.
//   - ErrInvalidArgument (wrapped) or ErrKeepAliveHalted wrapping
//     ErrClientClosed: KeepAlive refused the call and returned the error
//     along with an already closed channel.
//
// A typical loop:
//
//	ch, err := cli.KeepAlive(ctx, lease.ID)
//	if err != nil {
//		return err
//	}
//	for resp := range ch {
//		log.Printf("lease %x renewed, TTL %d s", resp.ID, resp.TTL)
//	}
//	switch err := client.KeepAliveError(ch); {
//	case errors.Is(err, context.Canceled):
//		// we stopped it
//	case errors.Is(err, rpctypes.ErrLeaseNotFound), errors.Is(err, client.ErrLeaseExpired):
//		// the lease is gone: keys attached to it are deleted
//	default:
//		log.Printf("keepalive ended: %v", err)
//	}
func KeepAliveError(ch <-chan *LeaseKeepAliveResponse) error {
	if ch == nil {
		return nil
	}
	v, ok := keepAliveReasons.Load(chanAddr(ch))
	if !ok {
		return nil
	}
	return v.(*keepAliveReason).get()
}

// keepAliveReasons maps the address of every live channel KeepAlive returned
// to the reason it closed. The key is an address rather than the channel so
// that the map does not keep the channel reachable: a cleanup attached to
// the channel removes its entry once the caller drops the channel, so
// reasons take no memory beyond the channels' own lifetime.
var keepAliveReasons sync.Map // uintptr -> *keepAliveReason

// keepAliveReason is the close reason of one keepalive channel, set once
// just before the channel closes. A reader that saw the close also sees the
// reason (the close orders the two); the atomic serves readers that ask
// while the channel is open.
type keepAliveReason struct {
	err atomic.Pointer[error]
}

func (r *keepAliveReason) set(err error) { r.err.CompareAndSwap(nil, &err) }

func (r *keepAliveReason) get() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

// reasonEntry is what the cleanup of a channel needs to remove its entry.
// It must not reference the channel, or the channel would never be
// collected.
type reasonEntry struct {
	addr   uintptr
	reason *keepAliveReason
}

// chanAddr returns the address of the runtime object behind ch, which
// identifies the channel for as long as it is reachable.
func chanAddr(ch <-chan *LeaseKeepAliveResponse) uintptr {
	return uintptr(reflect.ValueOf(ch).UnsafePointer())
}

// registerKeepAlive makes ch's close reason readable by KeepAliveError.
func registerKeepAlive(ch chan *LeaseKeepAliveResponse) *keepAliveReason {
	p := reflect.ValueOf(ch).UnsafePointer()
	r := &keepAliveReason{}
	e := reasonEntry{addr: uintptr(p), reason: r}
	keepAliveReasons.Store(e.addr, r)
	// Once the channel is unreachable its address may be reused by a new
	// channel before this cleanup runs, so only our own entry is removed.
	runtime.AddCleanup((*byte)(p), dropReason, e)
	return r
}

func dropReason(e reasonEntry) { keepAliveReasons.CompareAndDelete(e.addr, e.reason) }
