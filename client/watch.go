package client

import (
	"context"
	"errors"
	"strings"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Event types, as in clientv3.
const (
	EventTypeDelete = mvccpb.Event_DELETE
	EventTypePut    = mvccpb.Event_PUT
)

// Watch ids with a meaning to the server, as in clientv3: AutoWatchID asks
// the server to pick an id, and InvalidWatchID is the id of a response that
// belongs to no single watch (a refused create, a progress response for the
// whole stream).
const (
	AutoWatchID    = 0
	InvalidWatchID = -1
)

// Event is one change seen by a watch: mvccpb.Event, with IsCreate and
// IsModify.
type Event = mvccpb.Event

// WatchChan delivers the responses of one watch.
type WatchChan <-chan WatchResponse

// Watcher is the watch API.
//
// Watches made with contexts that carry the same outgoing gRPC metadata (for
// instance all contexts made by WithRequireLeader, or all plain contexts)
// share one gRPC stream; a stream is opened for the first such watch and
// closed when the last one ends.
//
// When a stream is lost (a member stops, a connection drops) the Watcher
// opens another one, on any endpoint, and resumes each watch at the revision
// after the last one it received: no event is skipped or repeated, and
// revisions never go backwards. If that revision has been compacted
// meanwhile, the watch ends with rpctypes.ErrCompacted.
//
// A member cut off from the rest of the cluster keeps its streams open but
// sees no new writes. A watch whose context was made by WithRequireLeader
// then moves to another member (the server ends such a stream after a few
// election timeouts without a leader); if for about 3 s no member with a
// leader can be reached, it ends with rpctypes.ErrNoLeader. Other watches
// wait, silent, until the member rejoins, as with clientv3.
//
// Each watch has its own buffer between the stream and its channel, so a
// consumer that reads slowly never delays the other watches on the stream.
// When a watch has more than 64 MiB of events (keys and values) waiting to
// be read, the Watcher cancels it on the server and creates it again, from
// the next revision, once the consumer has read three quarters of that:
// memory stays bounded and no event is lost, unless the history is compacted
// past that revision in between, in which case the watch ends with
// rpctypes.ErrCompacted. (clientv3 buffers without bound instead.)
type Watcher interface {
	// Watch watches key, or a range of keys with WithPrefix, WithRange or
	// WithFromKey, and delivers the changes on the returned channel, in
	// revision order.
	//
	// Without WithRev the watch sees the changes made after the server
	// created it, and Watch returns only once it has (or ctx has ended), so
	// a write made after Watch returns is always seen. With WithRev(rev) it
	// starts at rev and Watch returns at once.
	//
	// The channel closes when ctx ends (after which a receive yields a zero
	// WatchResponse), when the Watcher or its Client is closed (with no
	// last response, as in clientv3; a Watch made after that returns a
	// closed channel), or after a
	// response with Canceled set whose Err says why the watch ended: bad
	// options (wrapping ErrInvalidArgument), rpctypes.ErrCompacted,
	// rpctypes.ErrNoLeader (with WithRequireLeader, when no member with a
	// leader can be reached), rpctypes.ErrPermissionDenied. ctx must be
	// canceled once the watch is no longer needed, to release it.
	Watch(ctx context.Context, key string, opts ...OpOption) WatchChan

	// RequestProgress asks the server for a progress response on every
	// watch of this Watcher: a response with no events whose header
	// revision tells that the watch has seen every change up to it. Watches
	// whose server has not caught up yet get no response.
	RequestProgress(ctx context.Context) error

	// Close ends every watch of this Watcher: their channels close, with
	// nothing more delivered.
	Close() error
}

// WatchResponse is one response of a watch: events, or a notice (created,
// progress, canceled).
type WatchResponse struct {
	// Header is the header of the server's response; never nil.
	Header *pb.ResponseHeader
	// Events are the changes, in revision order. Responses that were split
	// by the server (WithFragment) are joined again before delivery.
	Events []*Event

	// CompactRevision is set when the watch's start revision has been
	// compacted: the watch ends with this response.
	CompactRevision int64

	// Canceled is set on the last response of a watch that ended for a
	// reason other than its context; Err says why.
	Canceled bool

	// Created is set on the response that reports the creation of the
	// watch, delivered with WithCreatedNotify.
	Created bool

	closeErr error

	// CancelReason is the server's reason for canceling the watch.
	CancelReason string
}

// Err returns the error that ended the watch, or nil.
func (wr *WatchResponse) Err() error {
	switch {
	case wr.closeErr != nil:
		return wr.closeErr
	case wr.CompactRevision != 0:
		return rpctypes.ErrCompacted
	case wr.Canceled:
		if wr.CancelReason != "" {
			return cancelReasonErr(wr.CancelReason)
		}
		// The server cancels a watch without a reason only when its start
		// revision is out of reach; clientv3 reports that the same way.
		return rpctypes.ErrFutureRev
	}
	return nil
}

// IsProgressNotify reports whether wr is a progress response: no events, and
// a header revision up to which the watch has seen every change.
func (wr *WatchResponse) IsProgressNotify() bool {
	return len(wr.Events) == 0 && !wr.Canceled && !wr.Created && wr.CompactRevision == 0 && wr.Header.GetRevision() != 0
}

// cancelReasonErr turns the reason of a server-side cancel into the rpctypes
// error it names. The server writes some reasons as the text of a whole gRPC
// status ("rpc error: code = PermissionDenied desc = etcdserver: permission
// denied"), which rpctypes.Error alone does not recognise.
func cancelReasonErr(reason string) error {
	desc := reason
	if i := strings.LastIndex(reason, "desc = "); i >= 0 {
		desc = reason[i+len("desc = "):]
	}
	var ee rpctypes.EtcdError
	if err := rpctypes.Error(errors.New(desc)); errors.As(err, &ee) {
		return err
	}
	return status.Error(codes.FailedPrecondition, reason)
}

// NewWatcher returns a Watcher of its own on c's connection: its streams are
// not shared with c.Watcher, and it must be closed.
func NewWatcher(c *Client) Watcher { return newWatcher(c) }

// NewWatchFromWatchClient returns a Watcher that opens its streams with wc.
// c may be nil; when set, it provides the logger and the auth token.
func NewWatchFromWatchClient(wc pb.WatchClient, c *Client) Watcher {
	w := newWatcherWith(c)
	w.open = func(ctx context.Context) (grpc.ClientStream, error) { return wc.Watch(ctx) }
	return w
}

func newWatcher(c *Client) Watcher {
	w := newWatcherWith(c)
	w.open = func(ctx context.Context) (grpc.ClientStream, error) {
		return c.conn.NewStream(ctx, watchStreamDesc, methodWatch)
	}
	return w
}

const methodWatch = "/etcdserverpb.Watch/Watch"

var watchStreamDesc = &grpc.StreamDesc{StreamName: "Watch", ServerStreams: true, ClientStreams: true}

// watcher implements Watcher: a set of stream groups, one per distinct
// outgoing metadata.
type watcher struct {
	c    *Client // nil for a NewWatchFromWatchClient without a client
	lg   *zap.Logger
	open func(ctx context.Context) (grpc.ClientStream, error)

	// ctx ends at Close (or when the client closes): every goroutine of
	// the watcher watches it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	groups map[string]*watchGroup
	closed bool

	wg sync.WaitGroup // every goroutine of the watcher
}

func newWatcherWith(c *Client) *watcher {
	parent, lg := context.Background(), zap.NewNop()
	if c != nil {
		parent, lg = c.ctx, c.lg
	}
	ctx, cancel := context.WithCancel(parent)
	return &watcher{c: c, lg: lg, ctx: ctx, cancel: cancel, groups: map[string]*watchGroup{}}
}

// Watch implements Watcher.
func (w *watcher) Watch(ctx context.Context, key string, opts ...OpOption) WatchChan {
	if ctx == nil {
		return failedWatch(invalidArg("Watch(%q): nil context", key))
	}
	op := OpWatch(key, opts...)
	if err := op.validateWatch(); err != nil {
		return failedWatch(err)
	}
	if ctx.Err() != nil {
		return closedWatch()
	}
	s := newWatchSub(w, ctx, &op)

	w.mu.Lock()
	if w.closed || w.ctx.Err() != nil {
		w.mu.Unlock()
		// As clientv3: a closed channel with nothing in it, the same
		// end as that of the watches the Close ended.
		return closedWatch()
	}
	gkey, md := streamKey(ctx)
	g := w.groups[gkey]
	if g == nil || !g.add(s) {
		g = newWatchGroup(w, gkey, md)
		w.groups[gkey] = g
		g.add(s)
		w.wg.Add(1)
		go g.run()
	}
	w.wg.Add(1)
	go s.deliver()
	w.mu.Unlock()

	if op.rev == 0 {
		// The watch starts at the server's revision when it is created:
		// wait for that, so that writes made after Watch returns are seen.
		select {
		case <-s.readyc:
		case <-ctx.Done():
		case <-w.ctx.Done():
		}
	}
	return s.outc
}

// validateWatch checks the options of a watch before anything is sent.
func (op *Op) validateWatch() error {
	if op.err != nil {
		return op.err
	}
	if op.isOptsWithFromKey && (op.isOptsWithPrefix || op.isOptsWithRange) {
		return invalidArg("Watch(%q): WithFromKey cannot be combined with WithPrefix or WithRange", op.key)
	}
	if op.isOptsWithPrefix && op.isOptsWithRange {
		return invalidArg("Watch(%q): WithPrefix cannot be combined with WithRange", op.key)
	}
	if op.rev < 0 {
		return invalidArg("Watch(%q): WithRev(%d): the revision must not be negative", op.key, op.rev)
	}
	return nil
}

func (op *Op) watchRequest() *pb.WatchCreateRequest {
	r := &pb.WatchCreateRequest{
		Key:            op.key,
		RangeEnd:       op.end,
		StartRevision:  op.rev,
		ProgressNotify: op.progressNotify,
		PrevKv:         op.prevKV,
		Fragment:       op.fragment,
	}
	if op.filterPut {
		r.Filters = append(r.Filters, pb.WatchCreateRequest_NOPUT)
	}
	if op.filterDelete {
		r.Filters = append(r.Filters, pb.WatchCreateRequest_NODELETE)
	}
	return r
}

// closedWatch returns a closed channel with nothing in it.
func closedWatch() WatchChan {
	ch := make(chan WatchResponse)
	close(ch)
	return ch
}

// failedWatch returns a closed channel holding one response that reports err.
func failedWatch(err error) WatchChan {
	ch := make(chan WatchResponse, 1)
	ch <- WatchResponse{Header: &pb.ResponseHeader{}, Canceled: true, closeErr: err}
	close(ch)
	return ch
}

// RequestProgress implements Watcher. The request goes out on every stream
// of the Watcher, whatever metadata ctx carries; a stream being reopened
// sends it once its watches are created again.
func (w *watcher) RequestProgress(ctx context.Context) error {
	if ctx == nil {
		return invalidArg("RequestProgress: nil context")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.ctx.Err() != nil {
		return ErrClientClosed
	}
	for _, g := range w.groups {
		g.requestProgress()
	}
	return nil
}

// Close implements Watcher: every watch's channel closes, and every
// goroutine of the Watcher has ended when Close returns.
func (w *watcher) Close() error {
	w.mu.Lock()
	w.closed = true
	w.groups = map[string]*watchGroup{}
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
	return nil
}

// dropGroup forgets g if it is still the group for its key.
func (w *watcher) dropGroup(g *watchGroup) {
	w.mu.Lock()
	if w.groups[g.key] == g {
		delete(w.groups, g.key)
	}
	w.mu.Unlock()
}
