package client

import (
	"context"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// watchBufferLimit is how many bytes of events (keys and values, plus a fixed
// overhead per event) a watch may hold for its consumer before it is paused
// on the server; it is resumed once a quarter of that is left.
var watchBufferLimit = 64 << 20

// eventOverhead approximates the memory of an event beyond its keys and values.
const eventOverhead = 96

// subState is where a watch stands on the current gRPC stream. It is guarded
// by the group's mutex.
type subState int

const (
	// subNeedCreate: the create request is to be sent on the current
	// stream (or the next one).
	subNeedCreate subState = iota
	// subPending: the create request was sent; its Created response has
	// not arrived.
	subPending
	// subActive: the server runs the watch under sub.id.
	subActive
	// subPausing: a cancel was sent because the consumer fell behind.
	subPausing
	// subPaused: not on the server until the consumer catches up.
	subPaused
	// subLeft: the consumer left (its context ended); the server watch,
	// if any, is being canceled.
	subLeft
	// subDone: the final response is queued; nothing more is delivered.
	subDone
)

// watchSub is one watch: its place in a group, the request that (re)creates
// it, and the queue between the gRPC stream and the consumer's channel.
type watchSub struct {
	w   *watcher
	g   *watchGroup // set by watchGroup.add
	ctx context.Context

	req           *pb.WatchCreateRequest // template; StartRevision set per create
	createdNotify bool

	outc   chan WatchResponse
	readyc chan struct{} // closed once the watch is created or has failed

	// Guarded by g.mu.
	state   subState
	id      int64
	nextRev int64          // revision to resume at; 0 until known
	lastRev int64          // revision of the last event delivered
	created bool           // the first Created response has been seen
	ready   bool           // readyc is closed
	frag    *WatchResponse // events of a fragmented response being joined

	// The queue, guarded by qmu. Lock order: g.mu, then qmu.
	qmu     sync.Mutex
	queue   []queuedResponse
	head    int
	bytes   int  // size of the queued events
	sending bool // deliver holds queue[head] and is sending it
	closed  bool // outc is closed
	final   bool // the last response is queued; close outc after it
	paused  bool // the watch is paused on the server until bytes is low
	signal  chan struct{}
}

type queuedResponse struct {
	r    WatchResponse
	size int
}

func newWatchSub(w *watcher, ctx context.Context, op *Op) *watchSub {
	return &watchSub{
		w:             w,
		ctx:           ctx,
		req:           op.watchRequest(),
		createdNotify: op.createdNotify,
		nextRev:       op.rev,
		id:            InvalidWatchID,
		outc:          make(chan WatchResponse),
		readyc:        make(chan struct{}),
		signal:        make(chan struct{}, 1),
	}
}

// markReady lets Watch return. Called with g.mu held.
func (s *watchSub) markReady() {
	if !s.ready {
		s.ready = true
		close(s.readyc)
	}
}

func responseSize(r *WatchResponse) int {
	n := 0
	for _, ev := range r.Events {
		n += eventOverhead
		if kv := ev.Kv; kv != nil {
			n += len(kv.Key) + len(kv.Value)
		}
		if kv := ev.PrevKv; kv != nil {
			n += len(kv.Key) + len(kv.Value)
		}
	}
	return n
}

// push hands r to the consumer: directly when the consumer is waiting and
// nothing is queued before r, through the queue otherwise. It never blocks.
// final marks r as the last response. It returns the bytes left queued.
func (s *watchSub) push(r WatchResponse, final bool) int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.closed || s.final {
		return s.bytes
	}
	s.final = final
	if s.head == len(s.queue) && !s.sending {
		select {
		case s.outc <- r:
			if final {
				s.wake()
			}
			return s.bytes
		default:
		}
	}
	size := responseSize(&r)
	s.queue = append(s.queue, queuedResponse{r: r, size: size})
	s.bytes += size
	s.wake()
	return s.bytes
}

func (s *watchSub) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// closeOut closes the consumer's channel and drops what is queued. Called
// with qmu held.
func (s *watchSub) closeOut() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.outc)
	clear(s.queue)
	s.queue, s.head, s.bytes = nil, 0, 0
}

// deliver moves queued responses to the consumer's channel until the watch
// ends: its context ends, the watcher closes, or the final response has
// been read.
func (s *watchSub) deliver() {
	defer s.w.wg.Done()
	for {
		s.qmu.Lock()
		if s.head == len(s.queue) {
			if s.final {
				s.qmu.Unlock()
				s.stop(true)
				return
			}
			s.qmu.Unlock()
			select {
			case <-s.signal:
				continue
			case <-s.ctx.Done():
				s.stop(true)
				return
			case <-s.w.ctx.Done():
				s.stop(false)
				return
			}
		}
		r := s.queue[s.head].r
		s.sending = true
		s.qmu.Unlock()

		select {
		case s.outc <- r:
		case <-s.ctx.Done():
			s.stop(true)
			return
		case <-s.w.ctx.Done():
			s.stop(false)
			return
		}

		s.qmu.Lock()
		s.sending = false
		s.bytes -= s.queue[s.head].size
		s.queue[s.head] = queuedResponse{}
		s.head++
		if s.head == len(s.queue) {
			// Keep a small backing array for the next burst, not a
			// large one left by a backlog.
			if cap(s.queue) > 4096 {
				s.queue = nil
			}
			s.queue, s.head = s.queue[:0], 0
		} else if s.head >= 1024 && s.head*2 >= len(s.queue) {
			n := copy(s.queue, s.queue[s.head:])
			clear(s.queue[n:])
			s.queue, s.head = s.queue[:n], 0
		}
		resume := s.paused && s.bytes <= watchBufferLimit/4
		if resume {
			s.paused = false
		}
		s.qmu.Unlock()
		if resume {
			s.g.resume(s)
		}
	}
}

// stop closes the channel; with leave, it first takes the watch off its
// stream, so that a consumer who sees the channel closed knows the watch is
// released (and a new Watch does not join a stream about to close).
func (s *watchSub) stop(leave bool) {
	if leave {
		s.g.leave(s)
	}
	s.qmu.Lock()
	s.closeOut()
	s.qmu.Unlock()
}
