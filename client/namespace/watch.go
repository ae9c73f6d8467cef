package namespace

import (
	"context"
	"sync"

	"github.com/etcdscript/etcdscript/client"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

type watcherPrefix struct {
	client.Watcher // RequestProgress passes through
	pfx            []byte

	mu     sync.Mutex
	closed bool
	stopc  chan struct{} // closed by Close
	wg     sync.WaitGroup
}

// NewWatcher returns a Watcher that watches keys under prefix and removes
// prefix from the keys of the events it delivers. Closing it closes w.
func NewWatcher(w client.Watcher, prefix string) client.Watcher {
	return &watcherPrefix{Watcher: w, pfx: []byte(prefix), stopc: make(chan struct{})}
}

func (w *watcherPrefix) Watch(ctx context.Context, key string, opts ...client.OpOption) client.WatchChan {
	op := client.OpWatch(key, opts...)
	if op.Err() != nil || len(op.KeyBytes()) == 0 || ctx == nil {
		// The inner Watcher reports bad input on its channel, which only
		// it can build; an empty key must not become the prefix.
		return w.Watcher.Watch(ctx, key, opts...)
	}
	k, end := interval(w.pfx, op.KeyBytes(), op.RangeBytes())
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		out := make(chan client.WatchResponse)
		close(out)
		return out
	}
	w.wg.Add(1)
	w.mu.Unlock()

	in := w.Watcher.Watch(ctx, string(k), append(opts[:len(opts):len(opts)], keyRange(k, end))...)
	out := make(chan client.WatchResponse)
	go func() {
		defer w.wg.Done()
		defer close(out)
		for wr := range in {
			wr.Events = w.stripEvents(wr.Events)
			select {
			case out <- wr:
			case <-ctx.Done():
				drain(in)
				return
			case <-w.stopc:
				drain(in)
				return
			}
		}
	}()
	return out
}

// drain reads a watch channel until it closes, which it does once the
// watch's context ends or its Watcher closes, so its goroutines can finish.
func drain(in client.WatchChan) {
	for range in {
	}
}

// stripEvents returns copies of evs with the prefix removed: the events
// may be shared with other watches of the inner Watcher, so they are not
// changed in place.
func (w *watcherPrefix) stripEvents(evs []*client.Event) []*client.Event {
	if len(evs) == 0 {
		return evs
	}
	out := make([]*client.Event, len(evs))
	for i, ev := range evs {
		out[i] = &mvccpb.Event{Type: ev.Type, Kv: w.copyKV(ev.Kv), PrevKv: w.copyKV(ev.PrevKv)}
	}
	return out
}

func (w *watcherPrefix) copyKV(kv *mvccpb.KeyValue) *mvccpb.KeyValue {
	if kv == nil {
		return nil
	}
	c := &mvccpb.KeyValue{
		Key:            kv.Key,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
		Version:        kv.Version,
		Value:          kv.Value,
		Lease:          kv.Lease,
	}
	strip(w.pfx, c)
	return c
}

// Close ends every watch and closes the inner Watcher.
func (w *watcherPrefix) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stopc)
	}
	w.mu.Unlock()
	err := w.Watcher.Close()
	w.wg.Wait()
	return err
}
