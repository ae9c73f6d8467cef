package client

import (
	"context"
	"errors"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// MaxLeaseTTL is the longest TTL, in seconds, a server grants; Grant with
// a longer one fails with rpctypes.ErrLeaseTTLTooLarge.
const MaxLeaseTTL = 9000000000

// gRPC method names of the lease calls made through invoke.
const (
	methodLeaseGrant      = "/etcdserverpb.Lease/LeaseGrant"
	methodLeaseRevoke     = "/etcdserverpb.Lease/LeaseRevoke"
	methodLeaseTimeToLive = "/etcdserverpb.Lease/LeaseTimeToLive"
	methodLeaseLeases     = "/etcdserverpb.Lease/LeaseLeases"
)

// LeaseRevokeResponse is the server's answer to Revoke.
type LeaseRevokeResponse pb.LeaseRevokeResponse

// LeaseGrantResponse is the server's answer to Grant: the new lease's ID and
// the TTL (in seconds) the server granted, which may be longer than the one
// asked for when that was below the server's minimum.
type LeaseGrantResponse struct {
	*pb.ResponseHeader
	ID    LeaseID
	TTL   int64
	Error string
}

// LeaseKeepAliveResponse is one renewal of a lease: the TTL (in seconds) the
// lease has again from the moment the server renewed it.
type LeaseKeepAliveResponse struct {
	*pb.ResponseHeader
	ID  LeaseID
	TTL int64
}

// LeaseTimeToLiveResponse describes a lease. For a lease that does not exist
// (never granted, expired or revoked) the server answers TTL -1 rather than
// an error.
type LeaseTimeToLiveResponse struct {
	*pb.ResponseHeader
	ID LeaseID `json:"id"`

	// TTL is the number of seconds the lease has left: it expires in less
	// than TTL+1 seconds unless renewed. It is -1 for a lease that does not
	// exist.
	TTL int64 `json:"ttl"`

	// GrantedTTL is the TTL the lease was granted with, in seconds; every
	// renewal restores it.
	GrantedTTL int64 `json:"granted-ttl"`

	// Keys lists the keys attached to the lease when TimeToLive was called
	// with WithAttachedKeys.
	Keys [][]byte `json:"keys"`
}

// LeaseStatus is one lease in a Leases answer.
type LeaseStatus struct {
	ID LeaseID `json:"id"`
}

// LeaseLeasesResponse lists the leases that exist on the server.
type LeaseLeasesResponse struct {
	*pb.ResponseHeader
	Leases []LeaseStatus `json:"leases"`
}

// LeaseOp is a lease query built from LeaseOptions.
type LeaseOp struct {
	id           LeaseID
	attachedKeys bool
}

// LeaseOption configures TimeToLive.
type LeaseOption func(*LeaseOp)

// WithAttachedKeys makes TimeToLive list the keys attached to the lease.
func WithAttachedKeys() LeaseOption { return func(op *LeaseOp) { op.attachedKeys = true } }

// ErrKeepAliveHalted reports that a lease's keepalive stopped for a reason
// other than the lease being revoked or found gone: typically no renewal
// could be acknowledged within the lease's TTL because no member with a
// leader could be reached. KeepAlive also returns it, wrapping
// ErrClientClosed, when called after Close.
//
// Unlike clientv3's type of the same name it unwraps to its Reason, so
// errors.Is(err, ErrLeaseExpired) or errors.Is(err, rpctypes.ErrNoLeader)
// tell what happened.
type ErrKeepAliveHalted struct {
	Reason error
}

func (e ErrKeepAliveHalted) Error() string {
	if e.Reason == nil {
		return "etcdclient: lease keepalive halted"
	}
	return "etcdclient: lease keepalive halted: " + e.Reason.Error()
}

// Unwrap returns the reason, for errors.Is and errors.As.
func (e ErrKeepAliveHalted) Unwrap() error { return e.Reason }

var (
	// ErrLeaseRevoked is the reason a keepalive channel closed when its
	// lease was revoked through the same Lease (a lease revoked by another
	// client reads as rpctypes.ErrLeaseNotFound).
	ErrLeaseRevoked = errors.New("etcdclient: lease revoked")

	// ErrLeaseExpired is wrapped by the reason a keepalive channel closed
	// when the lease's TTL ran out without a renewal the server
	// acknowledged: the lease must be presumed expired on the server, even
	// though no member could say so.
	ErrLeaseExpired = errors.New("etcdclient: lease expired: no renewal acknowledged within its TTL")
)

// Lease is the lease API: leases are granted with a TTL, keys attached to a
// lease are deleted when it expires or is revoked, and KeepAlive renews a
// lease for as long as the program wants it.
type Lease interface {
	// Grant creates a lease that expires ttl seconds from now unless
	// renewed. ttl must be positive; the server raises a TTL below its
	// minimum to that minimum.
	Grant(ctx context.Context, ttl int64) (*LeaseGrantResponse, error)

	// Revoke ends a lease at once, deleting the keys attached to it. Any
	// keepalive channel of this Lease for the lease closes with
	// ErrLeaseRevoked.
	Revoke(ctx context.Context, id LeaseID) (*LeaseRevokeResponse, error)

	// TimeToLive describes a lease; with WithAttachedKeys it lists the keys
	// attached to it.
	TimeToLive(ctx context.Context, id LeaseID, opts ...LeaseOption) (*LeaseTimeToLiveResponse, error)

	// Leases lists every lease on the server.
	Leases(ctx context.Context) (*LeaseLeasesResponse, error)

	// KeepAlive renews the lease id until ctx ends, the lease is gone, or
	// no renewal could be acknowledged within the lease's TTL. Every lease
	// of a Lease is renewed on one shared stream, about every third of its
	// TTL; a stream broken by a lost member or a leader change is opened
	// again on another member and renewal goes on.
	//
	// The returned channel receives the renewals. It never blocks the
	// client: it holds one undelivered response, and a newer renewal
	// replaces an older one nobody received, so a caller that reads late
	// reads the latest state and a caller that never reads costs nothing.
	//
	// The channel closes when the keepalive ends; KeepAliveError(ch) then
	// tells why. A lease is presumed expired when no renewal was
	// acknowledged within its TTL (counted from the sending of the last
	// acknowledged request) or, before the first answer tells the TTL,
	// within 5 s. On error (nil ctx, NoLease, a closed client) KeepAlive
	// returns an already closed channel along with the error.
	KeepAlive(ctx context.Context, id LeaseID) (<-chan *LeaseKeepAliveResponse, error)

	// KeepAliveOnce renews the lease once, repeating the attempt on errors
	// that leave the lease untouched (no leader, an unreachable member)
	// until ctx ends. A lease that does not exist gives
	// rpctypes.ErrLeaseNotFound along with the server's response (its TTL
	// is -1), as clientv3 returns both.
	KeepAliveOnce(ctx context.Context, id LeaseID) (*LeaseKeepAliveResponse, error)

	// Close stops every keepalive of this Lease (their channels close with
	// ErrClientClosed) and waits for its goroutines to exit. Leases are not
	// revoked: they expire after their TTL.
	Close() error
}

// lessor implements Lease. The unary calls go through Client.invoke; the
// keepalive machinery lives in lease_keepalive.go.
type lessor struct {
	c *Client

	// ctx ends when the lessor or its client is closed; it bounds every
	// goroutine the lessor starts.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	started bool // the keepalive goroutines are running
	leases  map[LeaseID]*keepAlive
	// nonEmpty is closed while leases holds at least one lease, so the
	// keepalive goroutines can sleep while there is nothing to renew.
	nonEmpty chan struct{}
	// stream is the keepalive stream in use, nil between streams.
	stream *kaStream
	// lastErr is the last error that broke or refused a keepalive stream,
	// reported when a lease's TTL runs out; nil once a renewal succeeds.
	lastErr error
	// poke wakes the sender of the current stream: a lease was added or
	// a renewal is due.
	poke chan struct{}
}

// NewLease returns a Lease of its own on c's connection: its keepalives use
// their own stream, and its Close does not close c. Close it when done;
// closing c also stops it.
func NewLease(c *Client) Lease { return newLease(c) }

func newLease(c *Client) Lease {
	ctx, cancel := context.WithCancel(c.ctx)
	return &lessor{
		c:        c,
		ctx:      ctx,
		cancel:   cancel,
		leases:   map[LeaseID]*keepAlive{},
		nonEmpty: make(chan struct{}),
		poke:     make(chan struct{}, 1),
	}
}

func (l *lessor) Grant(ctx context.Context, ttl int64) (*LeaseGrantResponse, error) {
	if ctx == nil {
		return nil, invalidArg("Grant: nil context")
	}
	if ttl <= 0 {
		return nil, invalidArg("Grant: TTL %d: a lease's TTL must be a positive number of seconds", ttl)
	}
	resp := new(pb.LeaseGrantResponse)
	if err := l.c.invoke(ctx, methodLeaseGrant, &pb.LeaseGrantRequest{TTL: ttl}, resp, false); err != nil {
		return nil, err
	}
	return &LeaseGrantResponse{ResponseHeader: resp.Header, ID: LeaseID(resp.ID), TTL: resp.TTL, Error: resp.Error}, nil
}

func (l *lessor) Revoke(ctx context.Context, id LeaseID) (*LeaseRevokeResponse, error) {
	if ctx == nil {
		return nil, invalidArg("Revoke: nil context")
	}
	if id == NoLease {
		return nil, invalidArg("Revoke: lease ID 0 (NoLease) names no lease")
	}
	resp := new(pb.LeaseRevokeResponse)
	err := l.c.invoke(ctx, methodLeaseRevoke, &pb.LeaseRevokeRequest{ID: int64(id)}, resp, false)
	switch {
	case err == nil:
		l.endLease(id, ErrLeaseRevoked)
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		l.endLease(id, rpctypes.ErrLeaseNotFound)
	}
	if err != nil {
		return nil, err
	}
	return (*LeaseRevokeResponse)(resp), nil
}

func (l *lessor) TimeToLive(ctx context.Context, id LeaseID, opts ...LeaseOption) (*LeaseTimeToLiveResponse, error) {
	if ctx == nil {
		return nil, invalidArg("TimeToLive: nil context")
	}
	if id == NoLease {
		return nil, invalidArg("TimeToLive: lease ID 0 (NoLease) names no lease")
	}
	op := LeaseOp{id: id}
	for _, o := range opts {
		if o == nil {
			return nil, invalidArg("TimeToLive: nil LeaseOption")
		}
		o(&op)
	}
	resp := new(pb.LeaseTimeToLiveResponse)
	req := &pb.LeaseTimeToLiveRequest{ID: int64(op.id), Keys: op.attachedKeys}
	if err := l.c.invoke(ctx, methodLeaseTimeToLive, req, resp, true); err != nil {
		return nil, err
	}
	return &LeaseTimeToLiveResponse{
		ResponseHeader: resp.Header,
		ID:             LeaseID(resp.ID),
		TTL:            resp.TTL,
		GrantedTTL:     resp.GrantedTTL,
		Keys:           resp.Keys,
	}, nil
}

func (l *lessor) Leases(ctx context.Context) (*LeaseLeasesResponse, error) {
	if ctx == nil {
		return nil, invalidArg("Leases: nil context")
	}
	resp := new(pb.LeaseLeasesResponse)
	if err := l.c.invoke(ctx, methodLeaseLeases, &pb.LeaseLeasesRequest{}, resp, true); err != nil {
		return nil, err
	}
	out := &LeaseLeasesResponse{ResponseHeader: resp.Header, Leases: make([]LeaseStatus, len(resp.Leases))}
	for i, s := range resp.Leases {
		out.Leases[i] = LeaseStatus{ID: LeaseID(s.ID)}
	}
	return out, nil
}

func (l *lessor) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.wg.Wait()
		return nil
	}
	l.shutdownLocked()
	l.mu.Unlock()
	l.wg.Wait()
	return nil
}

// shutdownLocked marks the lessor closed, ends its goroutines' context and
// closes every keepalive channel with ErrClientClosed.
func (l *lessor) shutdownLocked() {
	l.closed = true
	l.cancel()
	for _, ka := range l.leases {
		ka.end(ErrClientClosed)
	}
	clear(l.leases)
}
