package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdscript/etcdscript/client"
)

// watchEvent is one event as a watcher received it.
type watchEvent struct {
	Rev   int64
	Key   string
	Del   bool
	Value string
}

func (e watchEvent) String() string {
	if e.Del {
		return fmt.Sprintf("rev %d delete %s", e.Rev, e.Key)
	}
	return fmt.Sprintf("rev %d put %s=%q", e.Rev, e.Key, e.Value)
}

// watchRecorder watches a prefix from a revision on and keeps every event it
// receives, in order. When the watch ends (a member without a leader, with
// WithRequireLeader) it watches again from the revision after the last event
// received, as a program using the client would.
type watchRecorder struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	cond     *sync.Cond
	events   []watchEvent
	last     int64 // revision of the last event, or the start revision - 1
	restarts int
	fatal    error // an error that ended the watch for good
	stopped  bool
}

// startWatch watches prefix from rev on through w.
func startWatch(w client.Watcher, prefix string, rev int64) *watchRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	r := &watchRecorder{cancel: cancel, done: make(chan struct{}), last: rev - 1}
	r.cond = sync.NewCond(&r.mu)
	go r.run(ctx, w, prefix)
	return r
}

func (r *watchRecorder) run(ctx context.Context, w client.Watcher, prefix string) {
	defer close(r.done)
	defer func() {
		r.mu.Lock()
		r.stopped = true
		r.cond.Broadcast()
		r.mu.Unlock()
	}()
	for ctx.Err() == nil {
		r.mu.Lock()
		from := r.last + 1
		r.mu.Unlock()
		wctx, wcancel := context.WithCancel(client.WithRequireLeader(ctx))
		var endErr error
		for resp := range w.Watch(wctx, prefix, client.WithPrefix(), client.WithRev(from)) {
			if err := resp.Err(); err != nil {
				endErr = err
				break
			}
			r.mu.Lock()
			for _, ev := range resp.Events {
				we := watchEvent{Rev: ev.Kv.ModRevision, Key: string(ev.Kv.Key), Del: ev.Type == mvccpb.DELETE}
				if !we.Del {
					we.Value = string(ev.Kv.Value)
				}
				r.events = append(r.events, we)
				r.last = max(r.last, we.Rev)
			}
			r.cond.Broadcast()
			r.mu.Unlock()
		}
		wcancel()
		if ctx.Err() != nil {
			return
		}
		if endErr == nil || errors.Is(endErr, client.ErrClientClosed) {
			endErr = errors.New("watch channel closed without a reason")
		}
		if isFatalWatchErr(endErr) {
			r.mu.Lock()
			r.fatal = endErr
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		r.restarts++
		r.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// isFatalWatchErr tells errors after which watching again cannot help: a
// compacted start revision (events are lost for good) or a closed client.
func isFatalWatchErr(err error) bool {
	return errors.Is(err, client.ErrClientClosed) || errors.Is(err, rpctypes.ErrCompacted)
}

// waitRev waits until an event of revision rev or later has been received.
func (r *watchRecorder) waitRev(ctx context.Context, rev int64) error {
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.last < rev {
		if r.fatal != nil {
			return fmt.Errorf("watch ended at revision %d: %w", r.last, r.fatal)
		}
		if r.stopped {
			return fmt.Errorf("watch stopped at revision %d", r.last)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("watch at revision %d, waiting for %d: %w", r.last, rev, ctx.Err())
		}
		r.cond.Wait()
	}
	return nil
}

// stop ends the watch and returns the events received, and how often the
// watch was made again.
func (r *watchRecorder) stop() ([]watchEvent, int, error) {
	r.cancel()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events), r.restarts, r.fatal
}

func (r *watchRecorder) state() (last int64, restarts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.restarts
}

// checkWatch checks the events a watcher of the whole written key space
// received after startRev up to endRev against the operations of history. The
// workload changes one key per revision and nothing outside the watched
// prefix, so:
//
//   - revisions are delivered in order and each exactly once: strictly
//     increasing;
//   - there is no gap: every revision after startRev up to endRev is
//     delivered;
//   - every acknowledged write that changed something is delivered at its
//     revision with its key and value;
//   - every event is explained by a write of the history (acknowledged at
//     that revision, or of unknown outcome), and no write's value appears
//     twice: a write applied twice would.
func checkWatch(events []watchEvent, startRev, endRev int64, history []porcupine.Operation) error {
	var errs []error
	fail := func(format string, args ...any) bool {
		errs = append(errs, fmt.Errorf(format, args...))
		return len(errs) >= 10
	}
	done := func() error {
		return errors.Join(errs...)
	}

	// Order, duplicates and gaps.
	want := startRev + 1
	for i, ev := range events {
		switch {
		case ev.Rev < want && i == 0:
			if fail("event 0 (%v) precedes the start revision %d", ev, want) {
				return done()
			}
		case ev.Rev < want:
			if fail("event %d (%v) after revision %d was delivered: out of order or repeated", i, ev, want-1) {
				return done()
			}
		case ev.Rev > want:
			if fail("revisions %d to %d missing before event %d (%v)", want, ev.Rev-1, i, ev) {
				return done()
			}
		}
		want = max(want, ev.Rev+1)
	}
	if want <= endRev {
		fail("revisions %d to %d never delivered", want, endRev)
	}
	if n := len(events); n > 0 && events[n-1].Rev > endRev {
		fail("event %v past the end revision %d", events[n-1], endRev)
	}

	// Events against writes.
	type writer struct {
		in  kvInput
		out kvOutput
	}
	byValue := map[string]writer{} // values are unique
	deletes := map[string][]writer{}
	acked := map[int64]writer{} // revision -> the acknowledged write that made it
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		switch in.Kind {
		case opPut, opCAS:
			byValue[in.Value] = writer{in, out}
		case opDelete:
			deletes[in.Key] = append(deletes[in.Key], writer{in, out})
		}
		if mutates(in, out) {
			if prev, dup := acked[out.Rev]; dup {
				fail("revision %d acknowledged twice: %s and %s", out.Rev,
					kvModel.DescribeOperation(prev.in, prev.out), kvModel.DescribeOperation(in, out))
			}
			acked[out.Rev] = writer{in, out}
		}
	}
	seenValue := map[string]int64{}
	byRev := map[int64]watchEvent{}
	for _, ev := range events {
		byRev[ev.Rev] = ev
		if ev.Del {
			ok := false
			for _, w := range deletes[ev.Key] {
				ok = ok || w.out.Unknown || (w.out.Deleted > 0 && w.out.Rev == ev.Rev)
			}
			if !ok && fail("%v: no delete of %s in the history explains it", ev, ev.Key) {
				return done()
			}
			continue
		}
		if rev, dup := seenValue[ev.Value]; dup {
			if fail("%v: value %q already delivered at revision %d (a write applied twice?)", ev, ev.Value, rev) {
				return done()
			}
		}
		seenValue[ev.Value] = ev.Rev
		w, ok := byValue[ev.Value]
		switch {
		case !ok:
			if fail("%v: no write of %q in the history", ev, ev.Value) {
				return done()
			}
		case w.in.Key != ev.Key:
			if fail("%v: %q was written to %s", ev, ev.Value, w.in.Key) {
				return done()
			}
		case !w.out.Unknown && (!mutates(w.in, w.out) || w.out.Rev != ev.Rev):
			if fail("%v: the write was acknowledged as %s", ev, kvModel.DescribeOperation(w.in, w.out)) {
				return done()
			}
		}
	}
	for rev, w := range acked {
		if rev <= startRev || rev > endRev {
			continue
		}
		ev, ok := byRev[rev]
		switch {
		case !ok:
			fail("acknowledged %s: revision %d not delivered", kvModel.DescribeOperation(w.in, w.out), rev)
		case ev.Key != w.in.Key || ev.Del != (w.in.Kind == opDelete) || (!ev.Del && ev.Value != w.in.Value):
			fail("acknowledged %s: revision %d delivered as %v", kvModel.DescribeOperation(w.in, w.out), rev, ev)
		}
		if len(errs) >= 10 {
			break
		}
	}
	return done()
}
