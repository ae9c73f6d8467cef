package client

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// watchNoLeaderGrace is how long a group whose contexts require a leader
// keeps trying other members after a stream was refused or ended for lack of
// a leader. It covers a normal election; past it, the watches end with
// rpctypes.ErrNoLeader.
var watchNoLeaderGrace = 3 * time.Second

// watchPauses counts the watches paused for a slow consumer, for tests.
var watchPauses atomic.Int64

// maxWatchTokenRenewals bounds how many times in a row a refused auth token
// is renewed before the refusal is reported to the watch.
const maxWatchTokenRenewals = 3

// errWatchTokenRefused ends a stream whose token the server refused, so that
// it is opened again with a new one.
var errWatchTokenRefused = errors.New("etcdclient: watch stream token refused")

// watchGroup is the set of watches that share one gRPC stream: those whose
// contexts carry the same outgoing metadata. It keeps a stream open while it
// has watches, opening a new one (on whichever endpoint the balancer picks)
// when one fails, and creating every watch again there at its next revision.
//
// Three kinds of goroutines touch it: run (opens streams and is the only one
// to send on them), recv (one per stream: receives and dispatches under mu,
// never blocking on a consumer) and each watch's deliver.
type watchGroup struct {
	w             *watcher
	key           string
	ctx           context.Context // the watcher's, with the group's metadata
	cancel        context.CancelFunc
	requireLeader bool

	kick chan struct{} // wakes run to send what is queued

	mu      sync.Mutex
	subs    map[*watchSub]struct{} // watches whose consumer has not left
	dead    bool                   // no watch may join any more
	byID    map[int64]*watchSub    // the watches created on the current stream
	pending []*watchSub            // creates sent, in order, awaiting Created
	sendq   []watchSend
	// progress asks run to send a progress request.
	progress bool
	// noLeaderSince is when streams started failing for lack of a leader.
	noLeaderSince time.Time
	// tokenRenewals counts token renewals since the last created watch.
	tokenRenewals int
}

// watchSend is a request for run to send: a create for sub, or a cancel of
// the watch cancelID.
type watchSend struct {
	sub      *watchSub
	cancelID int64
}

// watchInstance is one gRPC stream of a group.
type watchInstance struct {
	stream grpc.ClientStream
	token  string
	// productive is set once the stream delivered a response. Guarded by
	// the group's mu.
	productive bool
}

func newWatchGroup(w *watcher, key string, md metadata.MD) *watchGroup {
	ctx := w.ctx
	if md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	ctx, cancel := context.WithCancel(ctx)
	return &watchGroup{
		w:             w,
		key:           key,
		ctx:           ctx,
		cancel:        cancel,
		requireLeader: slices.Contains(md.Get(rpctypes.MetadataRequireLeaderKey), rpctypes.MetadataHasLeader),
		kick:          make(chan struct{}, 1),
		subs:          map[*watchSub]struct{}{},
	}
}

// streamKey names the stream group of ctx by its outgoing metadata, and
// returns a copy of that metadata for the group's streams.
func streamKey(ctx context.Context) (string, metadata.MD) {
	md, ok := metadata.FromOutgoingContext(ctx)
	if !ok || md.Len() == 0 {
		return "", nil
	}
	keys := make([]string, 0, md.Len())
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		for _, v := range md[k] {
			b.WriteByte(0)
			b.WriteString(v)
		}
		b.WriteByte(1)
	}
	return b.String(), md.Copy()
}

func (g *watchGroup) wake() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// add puts s in the group and queues its create; false if the group is
// shutting down.
func (g *watchGroup) add(s *watchSub) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dead {
		return false
	}
	s.g = g
	g.subs[s] = struct{}{}
	s.state = subNeedCreate
	g.sendq = append(g.sendq, watchSend{sub: s})
	g.wake()
	return true
}

// leave takes s out of the group once its consumer is gone, canceling its
// server watch, and closes the group when it was the last one.
func (g *watchGroup) leave(s *watchSub) {
	w := g.w
	w.mu.Lock()
	defer w.mu.Unlock()
	g.mu.Lock()
	if _, ok := g.subs[s]; !ok {
		g.mu.Unlock()
		return
	}
	delete(g.subs, s)
	switch s.state {
	case subActive, subPausing:
		delete(g.byID, s.id)
		g.sendq = append(g.sendq, watchSend{cancelID: s.id})
		g.wake()
	}
	// A pending create is canceled when its Created response arrives.
	s.state = subLeft
	s.id = InvalidWatchID
	empty := len(g.subs) == 0
	if empty {
		g.dead = true
	}
	g.mu.Unlock()
	if empty {
		if w.groups[g.key] == g {
			delete(w.groups, g.key)
		}
		g.cancel()
	}
}

// resume creates a paused watch again, its consumer having caught up.
func (g *watchGroup) resume(s *watchSub) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s.state == subPaused {
		s.state = subNeedCreate
		g.sendq = append(g.sendq, watchSend{sub: s})
		g.wake()
	}
}

func (g *watchGroup) requestProgress() {
	g.mu.Lock()
	g.progress = true
	g.mu.Unlock()
	g.wake()
}

// run keeps a stream open for the group until the group's context ends or
// its watches fail for good.
func (g *watchGroup) run() {
	defer g.w.wg.Done()
	defer g.cancel()
	attempt := 0
	for {
		inst, err := g.runInstance()
		if g.ctx.Err() != nil {
			return
		}
		if inst != nil && g.wasProductive(inst) {
			attempt = 0
		}
		if errors.Is(err, errWatchTokenRefused) {
			if _, rerr := g.w.c.auth.get(g.ctx, inst.token); rerr != nil {
				if g.ctx.Err() == nil {
					g.failAll(rerr)
				}
				return
			}
			continue
		}
		if ferr := g.classify(err); ferr != nil {
			g.failAll(ferr)
			return
		}
		attempt++
		g.w.lg.Debug("etcdclient: watch stream lost, reopening", zap.Error(err), zap.Int("attempt", attempt))
		if sleepCtx(g.ctx, retryBackoff(attempt)) != nil {
			return
		}
	}
}

func (g *watchGroup) wasProductive(inst *watchInstance) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return inst.productive
}

// classify returns nil when a stream that ended with err is to be opened
// again, or the error that ends every watch of the group.
func (g *watchGroup) classify(err error) error {
	var le *watchLoginError
	if errors.As(err, &le) {
		return le.err
	}
	if rpctypes.Error(err) == rpctypes.ErrNoLeader {
		if !g.requireLeader {
			return nil
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.noLeaderSince.IsZero() {
			g.noLeaderSince = time.Now()
			return nil
		}
		if time.Since(g.noLeaderSince) < watchNoLeaderGrace {
			return nil
		}
		return rpctypes.ErrNoLeader
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return nil // a transport error without a status
	}
	switch st.Code() {
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.Canceled,
		codes.DeadlineExceeded, codes.Aborted:
		return nil
	case codes.FailedPrecondition:
		// A learner refuses watch streams; another member will not.
		if rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(rpctypes.ErrGRPCNotSupportedForLearner) {
			return nil
		}
	}
	if g.w.c != nil {
		return g.w.c.toErr(g.ctx, err)
	}
	return rpctypes.Error(err)
}

// watchLoginError is a login that failed while opening a stream.
type watchLoginError struct{ err error }

func (e *watchLoginError) Error() string { return e.err.Error() }

// runInstance opens one stream, creates the group's watches on it and serves
// it until it fails or the group's context ends. It returns the stream's
// instance (nil if none opened) and the error that ended it.
func (g *watchGroup) runInstance() (*watchInstance, error) {
	ictx, icancel := context.WithCancel(g.ctx)
	defer icancel()
	sctx, token := ictx, ""
	if c := g.w.c; c != nil && c.auth.enabled() {
		var err error
		if sctx, token, err = c.streamContext(ictx); err != nil {
			return nil, &watchLoginError{err}
		}
	}
	if c := g.w.c; c != nil {
		// On a client with several endpoints, a member found hung ends
		// the stream, and the group opens it again on another.
		var att *attempt
		sctx, att = c.health.newStreamAttempt(sctx)
		defer c.health.release(att)
	}
	stream, err := g.w.open(sctx)
	if err != nil {
		return nil, err
	}
	inst := &watchInstance{stream: stream, token: token}

	g.mu.Lock()
	g.byID = map[int64]*watchSub{}
	clear(g.sendq)
	g.sendq = g.sendq[:0]
	for s := range g.subs {
		if s.state == subNeedCreate {
			g.sendq = append(g.sendq, watchSend{sub: s})
		}
	}
	g.mu.Unlock()

	recvc := make(chan error, 1)
	g.w.wg.Add(1)
	go g.recv(inst, recvc)
	received, err := g.send(ictx, inst, recvc)
	icancel()
	if !received {
		<-recvc
	}
	g.resetInstance()
	return inst, err
}

// resetInstance forgets the state of a stream that ended: every watch still
// wanted is to be created again, at its next revision.
func (g *watchGroup) resetInstance() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byID = nil
	clear(g.pending)
	g.pending = g.pending[:0]
	clear(g.sendq)
	g.sendq = g.sendq[:0]
	for s := range g.subs {
		s.id = InvalidWatchID
		// A partly received response is sent again in full.
		s.frag = nil
		switch s.state {
		case subPending, subActive:
			s.state = subNeedCreate
		case subPausing:
			g.settlePaused(s)
		}
	}
}

// settlePaused decides, once a paused watch is off the server, whether it
// must wait for its consumer or can be created again at once.
func (g *watchGroup) settlePaused(s *watchSub) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.id = InvalidWatchID
	if s.bytes > watchBufferLimit/4 && !s.closed {
		s.state = subPaused
		s.paused = true
		return
	}
	s.state = subNeedCreate
	g.sendq = append(g.sendq, watchSend{sub: s})
	g.wake()
}

// send writes the queued requests to the stream until the stream or the
// group ends. It reports whether it consumed the receive side's error.
func (g *watchGroup) send(ctx context.Context, inst *watchInstance, recvc <-chan error) (bool, error) {
	var batch []*pb.WatchRequest
	for {
		g.mu.Lock()
		for _, it := range g.sendq {
			if s := it.sub; s != nil {
				if s.state != subNeedCreate {
					continue
				}
				s.state = subPending
				g.pending = append(g.pending, s)
				batch = append(batch, createRequest(s.req, s.nextRev))
				continue
			}
			batch = append(batch, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{
				CancelRequest: &pb.WatchCancelRequest{WatchId: it.cancelID},
			}})
		}
		clear(g.sendq)
		g.sendq = g.sendq[:0]
		if g.progress {
			g.progress = false
			batch = append(batch, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{
				ProgressRequest: &pb.WatchProgressRequest{},
			}})
		}
		g.mu.Unlock()

		for i, req := range batch {
			if err := inst.stream.SendMsg(req); err != nil {
				// The stream is broken; the receive side has the reason.
				select {
				case rerr := <-recvc:
					return true, rerr
				case <-ctx.Done():
					return false, ctx.Err()
				}
			}
			batch[i] = nil
		}
		batch = batch[:0]

		select {
		case <-g.kick:
		case err := <-recvc:
			return true, err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

func createRequest(tmpl *pb.WatchCreateRequest, rev int64) *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{
		Key:            tmpl.Key,
		RangeEnd:       tmpl.RangeEnd,
		StartRevision:  rev,
		ProgressNotify: tmpl.ProgressNotify,
		Filters:        tmpl.Filters,
		PrevKv:         tmpl.PrevKv,
		Fragment:       tmpl.Fragment,
	}}}
}

// recv receives the stream's responses and dispatches them until the stream
// fails or a response asks for a new stream.
func (g *watchGroup) recv(inst *watchInstance, recvc chan<- error) {
	defer g.w.wg.Done()
	for {
		resp := new(pb.WatchResponse)
		if err := inst.stream.RecvMsg(resp); err != nil {
			recvc <- err
			return
		}
		if err := g.dispatch(inst, resp); err != nil {
			recvc <- err
			return
		}
	}
}

// dispatch routes one response to its watch (or, for a progress response of
// the whole stream, to every watch). It never blocks on a consumer.
func (g *watchGroup) dispatch(inst *watchInstance, resp *pb.WatchResponse) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	inst.productive = true
	g.noLeaderSince = time.Time{}
	if resp.Header == nil {
		resp.Header = &pb.ResponseHeader{}
	}
	if resp.Created {
		return g.onCreated(inst, resp)
	}
	if resp.WatchId == InvalidWatchID {
		// Sent only once every watch of the stream has caught up.
		for _, s := range g.byID {
			if s.state == subActive {
				g.deliver(s, resp.Header, nil)
			}
		}
		return nil
	}
	s := g.byID[resp.WatchId]
	if s == nil {
		return nil // a watch being canceled
	}
	if resp.Canceled {
		g.onCanceled(s, resp)
		return nil
	}
	if resp.Fragment {
		if s.frag == nil {
			s.frag = &WatchResponse{Header: resp.Header}
		}
		s.frag.Events = append(s.frag.Events, resp.Events...)
		return nil
	}
	events := resp.Events
	if s.frag != nil {
		events = append(s.frag.Events, events...)
		s.frag = nil
	}
	g.deliver(s, resp.Header, events)
	return nil
}

// deliver queues events (or, with none, a progress response) for s and
// pauses s on the server when its consumer has fallen too far behind.
func (g *watchGroup) deliver(s *watchSub, hdr *pb.ResponseHeader, events []*Event) {
	if len(events) == 0 {
		if r := hdr.Revision + 1; r > s.nextRev {
			s.nextRev = r
		}
		s.push(WatchResponse{Header: hdr}, false)
		return
	}
	// A response never splits a revision, so after a resume anything at or
	// below the last delivered revision is a repeat; the server should not
	// send one, and the consumer must never see one.
	if events[0].Kv.GetModRevision() <= s.lastRev {
		events = slices.DeleteFunc(slices.Clone(events), func(ev *Event) bool {
			return ev.Kv.GetModRevision() <= s.lastRev
		})
		if len(events) == 0 {
			return
		}
	}
	s.lastRev = events[len(events)-1].Kv.GetModRevision()
	s.nextRev = s.lastRev + 1
	queued := s.push(WatchResponse{Header: hdr, Events: events}, false)
	if queued > watchBufferLimit && s.state == subActive {
		watchPauses.Add(1)
		s.state = subPausing
		g.sendq = append(g.sendq, watchSend{cancelID: s.id})
		g.wake()
	}
}

func (g *watchGroup) onCreated(inst *watchInstance, resp *pb.WatchResponse) error {
	if len(g.pending) == 0 {
		g.w.lg.Warn("etcdclient: watch created response without a pending create", zap.Int64("watch-id", resp.WatchId))
		return nil
	}
	s := g.pending[0]
	g.pending[0] = nil
	g.pending = g.pending[1:]
	if resp.Canceled || resp.WatchId == InvalidWatchID {
		err := cancelReasonErr(resp.CancelReason)
		if isTokenError(err) && inst.token != "" && g.tokenRenewals < maxWatchTokenRenewals {
			g.tokenRenewals++
			return errWatchTokenRefused
		}
		if s.state == subPending {
			g.finish(s, WatchResponse{Header: resp.Header, Created: true, Canceled: true, CancelReason: resp.CancelReason})
		}
		return nil
	}
	g.tokenRenewals = 0
	if s.state != subPending {
		// The consumer left while the create was in flight.
		g.sendq = append(g.sendq, watchSend{cancelID: resp.WatchId})
		g.wake()
		return nil
	}
	s.id = resp.WatchId
	s.state = subActive
	g.byID[s.id] = s
	if s.nextRev == 0 {
		// The watch covers what comes after the revision it was created
		// at; that is where to resume it.
		s.nextRev = resp.Header.Revision + 1
	}
	if !s.created {
		s.created = true
		if s.createdNotify {
			s.push(WatchResponse{Header: resp.Header, Created: true}, false)
		}
		s.markReady()
	}
	return nil
}

func (g *watchGroup) onCanceled(s *watchSub, resp *pb.WatchResponse) {
	delete(g.byID, resp.WatchId)
	switch {
	case resp.CompactRevision != 0:
		g.finish(s, WatchResponse{Header: resp.Header, CompactRevision: resp.CompactRevision, Canceled: true})
	case s.state == subPausing:
		g.settlePaused(s)
	default:
		g.finish(s, WatchResponse{Header: resp.Header, Canceled: true, CancelReason: resp.CancelReason})
	}
}

// finish queues the last response of s. Called with g.mu held.
func (g *watchGroup) finish(s *watchSub, r WatchResponse) {
	if g.byID[s.id] == s {
		delete(g.byID, s.id)
	}
	s.id = InvalidWatchID
	s.state = subDone
	s.push(r, true)
	s.markReady()
}

// failAll ends every watch of the group with err and retires the group.
func (g *watchGroup) failAll(err error) {
	g.mu.Lock()
	g.dead = true
	for s := range g.subs {
		if s.state != subDone {
			g.finish(s, WatchResponse{Header: &pb.ResponseHeader{}, Canceled: true, closeErr: err})
		}
	}
	g.mu.Unlock()
	g.w.dropGroup(g)
}
