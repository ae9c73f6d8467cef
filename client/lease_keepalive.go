package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// How keepalives are scheduled. All leases of a lessor share one
// bidirectional LeaseKeepAlive stream: a sender goroutine writes renewal
// requests, the stream goroutine reads the answers, and a timer goroutine
// wakes the sender when renewals are due, ends leases whose TTL ran out
// unrenewed and resets a stream that stopped answering.
const (
	// kaTick is how often due renewals and expiries are checked while
	// there are leases to renew. A lease is renewed a third of its TTL
	// after the last acknowledged request was sent, give or take a tick.
	kaTick = 100 * time.Millisecond
	// kaProvisionalTTL bounds the wait for the first renewal of a lease
	// whose TTL is not known yet: a lease nobody answered for within it
	// is presumed expired.
	kaProvisionalTTL = 5 * time.Second
	// kaUnknownResend is how often a renewal is repeated before the first
	// answer tells the lease's TTL.
	kaUnknownResend = time.Second
	// kaMinStall is the shortest silence after which a stream with
	// unanswered renewals is given up for a new one.
	kaMinStall = 500 * time.Millisecond
)

var (
	// errKeepAliveStalled ends a keepalive stream that stopped answering,
	// so the next one can reach another member.
	errKeepAliveStalled = status.Error(codes.Unavailable, "etcdclient: keepalive stream stopped answering")
	// errNoAnswer stands for the last error of a lease that expired while
	// no stream failed: requests went out and nothing came back.
	errNoAnswer = status.Error(codes.Unavailable, "etcdclient: no keepalive answer from the cluster")
)

// keepAlive is the renewal state of one lease and the channels of the
// KeepAlive calls that asked for it. Guarded by lessor.mu.
type keepAlive struct {
	id   LeaseID
	subs []*kaSub
	// ttl is the TTL the last renewal restored; 0 before the first one.
	ttl time.Duration
	// nextSend is when the next renewal request is due.
	nextSend time.Time
	// deadline is when the lease expires on the server unless a renewal
	// is acknowledged first, as far as the client can tell: the sending
	// time of the last acknowledged request plus the TTL.
	deadline time.Time
	// inflight holds the sending times of unanswered requests on the
	// current stream, oldest first; the server answers in order.
	inflight []time.Time
}

// kaSub is one KeepAlive call: its channel, the reason it closed, and the
// stop function of the watch on its context.
type kaSub struct {
	ch     chan *LeaseKeepAliveResponse
	reason *keepAliveReason
	stop   func() bool
	closed bool
}

// offer hands r to the channel without ever blocking: a response the caller
// has not received yet is replaced by the newer one. Only the lessor sends
// on the channel, under lessor.mu, so after taking out the stale response
// the send cannot find the buffer full.
func (s *kaSub) offer(r *LeaseKeepAliveResponse) {
	select {
	case s.ch <- r:
		return
	default:
	}
	select {
	case <-s.ch:
	default:
	}
	select {
	case s.ch <- r:
	default:
	}
}

// close records why the keepalive ended and closes the channel.
func (s *kaSub) close(err error) {
	if s.closed {
		return
	}
	s.closed = true
	s.reason.set(err)
	close(s.ch)
	if s.stop != nil {
		s.stop()
	}
}

// end closes every channel of the lease with err.
func (ka *keepAlive) end(err error) {
	for _, s := range ka.subs {
		s.close(err)
	}
	ka.subs = nil
}

// resendInterval is how long after a request the next one is due unless an
// answer reschedules it.
func (ka *keepAlive) resendInterval() time.Duration {
	if ka.ttl == 0 {
		return kaUnknownResend
	}
	return ka.ttl / 3
}

// stallAfter is how long the stream may stay silent while this lease has an
// unanswered request before it is replaced: a third of the TTL leaves
// another third to renew on a new stream before the lease expires.
func (ka *keepAlive) stallAfter() time.Duration {
	if ka.ttl == 0 {
		return kaUnknownResend
	}
	return max(ka.ttl/3, kaMinStall)
}

// kaStream is the stream in use. Guarded by lessor.mu.
type kaStream struct {
	cancel   context.CancelCauseFunc
	lastRecv time.Time
}

// closedKeepAlive returns an already closed channel whose reason is err,
// for KeepAlive calls that fail.
func closedKeepAlive(err error) (<-chan *LeaseKeepAliveResponse, error) {
	s := &kaSub{ch: make(chan *LeaseKeepAliveResponse, 1)}
	s.reason = registerKeepAlive(s.ch)
	s.close(err)
	return s.ch, err
}

func (l *lessor) KeepAlive(ctx context.Context, id LeaseID) (<-chan *LeaseKeepAliveResponse, error) {
	if ctx == nil {
		return closedKeepAlive(invalidArg("KeepAlive: nil context"))
	}
	if id == NoLease {
		return closedKeepAlive(invalidArg("KeepAlive: lease ID 0 (NoLease) names no lease"))
	}
	sub := &kaSub{ch: make(chan *LeaseKeepAliveResponse, 1)}
	sub.reason = registerKeepAlive(sub.ch)

	l.mu.Lock()
	if l.closed || l.ctx.Err() != nil {
		l.mu.Unlock()
		err := ErrKeepAliveHalted{Reason: ErrClientClosed}
		sub.close(err)
		return sub.ch, err
	}
	if !l.started {
		l.started = true
		l.wg.Add(2)
		go l.streamLoop()
		go l.timerLoop()
	}
	ka := l.leases[id]
	if ka == nil {
		now := time.Now()
		ka = &keepAlive{id: id, nextSend: now, deadline: now.Add(kaProvisionalTTL)}
		l.leases[id] = ka
		if len(l.leases) == 1 {
			close(l.nonEmpty)
		}
	}
	ka.subs = append(ka.subs, sub)
	// AfterFunc starts a goroutine only when ctx ends; it waits for mu, so
	// sub.stop is set before it can run.
	sub.stop = context.AfterFunc(ctx, func() { l.dropSub(id, sub, ctx.Err()) })
	l.mu.Unlock()
	l.wake()
	return sub.ch, nil
}

// dropSub ends one KeepAlive call whose context ended; the lease stops
// being renewed when it was the last one.
func (l *lessor) dropSub(id LeaseID, sub *kaSub, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ka := l.leases[id]
	if ka == nil {
		return
	}
	i := slices.Index(ka.subs, sub)
	if i < 0 {
		return
	}
	ka.subs = slices.Delete(ka.subs, i, i+1)
	sub.close(err)
	if len(ka.subs) == 0 {
		l.removeLocked(id)
	}
}

// endLease closes every keepalive channel of id with err and stops renewing.
func (l *lessor) endLease(id LeaseID, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ka := l.leases[id]; ka != nil {
		ka.end(err)
		l.removeLocked(id)
	}
}

func (l *lessor) removeLocked(id LeaseID) {
	delete(l.leases, id)
	if len(l.leases) == 0 && !l.closed {
		l.nonEmpty = make(chan struct{})
	}
}

// wake tells the sender to look for due renewals.
func (l *lessor) wake() {
	select {
	case l.poke <- struct{}{}:
	default:
	}
}

// waitLeases blocks until there is a lease to renew; false when the
// lessor is closing.
func (l *lessor) waitLeases() bool {
	l.mu.Lock()
	ne := l.nonEmpty
	l.mu.Unlock()
	select {
	case <-ne:
		return true
	case <-l.ctx.Done():
		return false
	}
}

// timerLoop checks every kaTick, while there are leases, for renewals due,
// leases whose TTL ran out and a stream that stopped answering. When the
// lessor's context ends (Close, or the client closing) it closes every
// channel.
func (l *lessor) timerLoop() {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		if !l.closed {
			l.shutdownLocked()
		}
		l.mu.Unlock()
	}()
	t := time.NewTicker(kaTick)
	defer t.Stop()
	for l.waitLeases() {
		select {
		case <-l.ctx.Done():
			return
		case now := <-t.C:
			l.check(now)
		}
	}
}

func (l *lessor) check(now time.Time) {
	l.mu.Lock()
	due, stalled := false, false
	s := l.stream
	for id, ka := range l.leases {
		if now.After(ka.deadline) {
			ka.end(ErrKeepAliveHalted{Reason: l.expiredErr(ka)})
			l.removeLocked(id)
			continue
		}
		if !now.Before(ka.nextSend) {
			due = true
		}
		if s != nil && len(ka.inflight) > 0 {
			since := ka.inflight[0]
			if s.lastRecv.After(since) {
				since = s.lastRecv
			}
			if now.Sub(since) > ka.stallAfter() {
				stalled = true
			}
		}
	}
	l.mu.Unlock()
	if stalled {
		s.cancel(errKeepAliveStalled)
	}
	if due {
		l.wake()
	}
}

// expiredErr is the reason of a lease whose TTL ran out unrenewed.
func (l *lessor) expiredErr(ka *keepAlive) error {
	ttl := "its TTL (unknown, waited " + kaProvisionalTTL.String() + ")"
	if ka.ttl > 0 {
		ttl = ka.ttl.String()
	}
	last := l.lastErr
	if last == nil {
		last = errNoAnswer
	}
	// Wrapping the last error lets Classify name the cause (no leader,
	// unavailable) rather than a bare expiry.
	return fmt.Errorf("%w (lease %016x, TTL %s); last error: %w", ErrLeaseExpired, int64(ka.id), ttl, last)
}

// streamLoop keeps a keepalive stream open while there are leases to renew,
// opening a new one (the balancer picks the member) with backoff when one
// breaks.
func (l *lessor) streamLoop() {
	defer l.wg.Done()
	attempt := 0
	for l.waitLeases() {
		answered, token, err := l.runStream()
		if l.ctx.Err() != nil {
			return
		}
		if answered {
			attempt = 0
		}
		l.setLastErr(err)
		if isTokenError(err) && l.c.auth.enabled() {
			// The next stream carries a new token; concurrent calls that
			// saw the same stale token share one login.
			if _, rerr := l.c.auth.get(l.ctx, token); rerr != nil {
				l.setLastErr(rerr)
			}
		}
		l.c.lg.Debug("etcdclient: lease keepalive stream ended, reopening")
		attempt++
		if sleepCtx(l.ctx, retryBackoff(attempt)) != nil {
			return
		}
	}
}

func (l *lessor) setLastErr(err error) {
	l.mu.Lock()
	l.lastErr = err
	l.mu.Unlock()
}

// runStream serves one keepalive stream until it breaks. It reports whether
// the stream answered at all, the auth token it used and why it ended.
func (l *lessor) runStream() (answered bool, token string, err error) {
	// WithRequireLeader makes a member that lost its leader end the
	// stream, instead of holding renewals it cannot forward.
	ctx, cancel := context.WithCancelCause(WithRequireLeader(l.ctx))
	defer cancel(nil)
	sctx, token, err := l.c.streamContext(ctx)
	if err != nil {
		return false, "", err
	}
	// A member found hung ends the stream (health.go); the next one is
	// opened on another.
	sctx, att := l.c.health.newStreamAttempt(sctx)
	defer l.c.health.release(att)
	stream, err := pb.NewLeaseClient(l.c.conn).LeaseKeepAlive(sctx)
	if err != nil {
		return false, token, l.streamErr(ctx, err)
	}
	s := &kaStream{cancel: cancel, lastRecv: time.Now()}
	l.mu.Lock()
	l.stream = s
	// Answers to requests sent on the old stream are lost: renew every
	// lease at once on this one.
	now := time.Now()
	for _, ka := range l.leases {
		ka.inflight = ka.inflight[:0]
		ka.nextSend = now
	}
	l.mu.Unlock()

	sent := make(chan struct{})
	go func() {
		defer close(sent)
		l.sendLoop(ctx, cancel, stream)
	}()
	for {
		resp, rerr := stream.Recv()
		if rerr != nil {
			err = rerr
			break
		}
		answered = true
		l.onRenewal(s, resp)
	}
	cancel(nil)
	<-sent
	l.mu.Lock()
	l.stream = nil
	l.mu.Unlock()
	return answered, token, l.streamErr(ctx, err)
}

// streamErr names why a stream ended: the stall that made us cancel it, or
// the server's error.
func (l *lessor) streamErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if errors.Is(err, io.EOF) {
		return errors.New("etcdclient: keepalive stream closed by the server")
	}
	return l.c.toErr(l.ctx, err)
}

// sendLoop writes the due renewals whenever woken, until the stream ends.
func (l *lessor) sendLoop(ctx context.Context, cancel context.CancelCauseFunc, stream pb.Lease_LeaseKeepAliveClient) {
	l.wake()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.poke:
		}
		for _, id := range l.dueRenewals(time.Now()) {
			if err := stream.Send(&pb.LeaseKeepAliveRequest{ID: int64(id)}); err != nil {
				// io.EOF means the stream ended and Recv reports
				// why; anything else is ours to report.
				if !errors.Is(err, io.EOF) {
					cancel(fmt.Errorf("etcdclient: send lease keepalive: %w", err))
				}
				return
			}
		}
	}
}

// dueRenewals returns the leases whose renewal is due and marks them sent.
func (l *lessor) dueRenewals(now time.Time) []LeaseID {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []LeaseID
	for id, ka := range l.leases {
		if now.Before(ka.nextSend) {
			continue
		}
		ids = append(ids, id)
		ka.inflight = append(ka.inflight, now)
		ka.nextSend = now.Add(ka.resendInterval())
	}
	return ids
}

// onRenewal applies one answer of the server.
func (l *lessor) onRenewal(s *kaStream, resp *pb.LeaseKeepAliveResponse) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s.lastRecv = now
	l.lastErr = nil
	id := LeaseID(resp.ID)
	ka := l.leases[id]
	if ka == nil {
		return // no longer kept alive
	}
	sent := now
	if len(ka.inflight) > 0 {
		sent = ka.inflight[0]
		ka.inflight = ka.inflight[1:]
	}
	if resp.TTL <= 0 {
		ka.end(rpctypes.ErrLeaseNotFound)
		l.removeLocked(id)
		return
	}
	ka.ttl = time.Duration(resp.TTL) * time.Second
	// The server renewed the lease after we sent the request, so counting
	// from the sending time errs on the safe side.
	ka.deadline = sent.Add(ka.ttl)
	ka.nextSend = sent.Add(ka.ttl / 3)
	r := &LeaseKeepAliveResponse{ResponseHeader: resp.Header, ID: id, TTL: resp.TTL}
	for _, sub := range ka.subs {
		sub.offer(r)
	}
}

func (l *lessor) KeepAliveOnce(ctx context.Context, id LeaseID) (*LeaseKeepAliveResponse, error) {
	if ctx == nil {
		return nil, invalidArg("KeepAliveOnce: nil context")
	}
	if id == NoLease {
		return nil, invalidArg("KeepAliveOnce: lease ID 0 (NoLease) names no lease")
	}
	renewed := false
	for attempt := 1; ; attempt++ {
		resp, token, err := l.keepAliveOnce(ctx, id)
		if err == nil {
			return resp, nil
		}
		if resp != nil {
			// The server answered that the lease is gone: its answer
			// (TTL -1) goes with the error, as in clientv3.
			return resp, err
		}
		if ctx.Err() != nil || l.c.ctx.Err() != nil {
			return nil, l.c.toErr(ctx, err)
		}
		if !renewed && isTokenError(err) && l.c.auth.enabled() {
			renewed = true
			if _, rerr := l.c.auth.get(ctx, token); rerr != nil {
				return nil, rerr
			}
			continue
		}
		// A renewal changes nothing but the lease's expiry, so it is safe
		// to repeat whatever became of the failed attempt.
		if !shouldRetry(err, true) {
			return nil, l.c.toErr(ctx, err)
		}
		if sleepCtx(ctx, retryBackoff(attempt)) != nil {
			return nil, l.c.toErr(ctx, err)
		}
	}
}

// keepAliveOnce renews id once on a stream of its own.
func (l *lessor) keepAliveOnce(ctx context.Context, id LeaseID) (*LeaseKeepAliveResponse, string, error) {
	cctx, cancel := context.WithCancel(WithRequireLeader(ctx))
	defer cancel()
	sctx, token, err := l.c.streamContext(cctx)
	if err != nil {
		return nil, "", err
	}
	stream, err := pb.NewLeaseClient(l.c.conn).LeaseKeepAlive(sctx)
	if err != nil {
		return nil, token, err
	}
	if err := stream.Send(&pb.LeaseKeepAliveRequest{ID: int64(id)}); err != nil && !errors.Is(err, io.EOF) {
		return nil, token, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, token, err
	}
	out := &LeaseKeepAliveResponse{ResponseHeader: resp.Header, ID: LeaseID(resp.ID), TTL: resp.TTL}
	if resp.TTL <= 0 {
		return out, token, rpctypes.ErrLeaseNotFound
	}
	return out, token, nil
}
