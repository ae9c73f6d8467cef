package bindings

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/etcdscript/etcdscript/client"
)

// defaultPageSize is the page of a scan that pages with Range requests.
const defaultPageSize = 1000

// A scan reads a range of any size at one revision with memory bounded by
// about one part of the stream. It uses the server's streamed range (etcd
// 3.7): the server pins the revision of its first part for the whole stream
// and sizes parts near its request limit, without counting the rest of the
// range on every page as a limited Range does (which made paging 200k keys
// by 1,000 cost 3.3 times one Get). Over the client's KV (or a namespaced
// one) the stream is read with a client.RangeReader: a part stays in gRPC's
// receive buffers and each key-value is decoded and converted to Lua as the
// loop asks, and the next part is asked for only when the loop has read the
// last, so a slow loop holds back the server rather than filling memory.
// Over another KV (a host's own) the scan reads KV.GetStream's decoded parts.
// Against a server without streamed ranges (etcd 3.5 and 3.6) the reader
// pages by itself (client.WithPageSize); over a host's KV that answers
// Unimplemented the scan pages with Range requests of page_size keys at the
// revision of the first page.
type scanState struct {
	c    *conn
	kv   client.KV
	key  string
	span []client.OpOption // prefix, range_end or from_key
	read []client.OpOption // serializable, keys_only, revision filters

	ctx    context.Context
	cancel context.CancelFunc
	stop   func() // untracks the scan
	ch     client.GetStreamChan
	rr     client.RangeReader // the stream, read one key-value at a time

	cur  []*mvccpb.KeyValue
	i    int
	done bool

	// revision is the revision the scan reads at: it.revision.
	revision int64
	// serializable marks a scan that may be served by any member, so
	// that the read of its revision may be too.
	serializable bool

	// Paging with Range, when the stream is not available.
	paged    bool
	pageSize int64
	rev      int64
	limit    int64 // keys still to read; 0 means no limit
	limited  bool
	end      []byte
	nextKey  string
}

// scan is etcd.scan(key [, opts]): an iterator of kv over the range.
func (c *conn) scan(L *lua.LState) int {
	const fn = "etcd.scan"
	a := c.args(L, fn)
	b := c.off
	key := a.String(b+1, "key")
	o := a.Options(b+2, "opts", scanOptions)
	keyArg(a, b+1, key, wholeSpace(&o))
	s := &scanState{c: c, key: key, pageSize: defaultPageSize}
	if o.Raw() != nil {
		if o.Bool("count_only", false) {
			o.Fail("count_only", "a scan iterates over keys; use etcd.range with count_only")
		}
		if o.IsSet("sort") {
			target, order := sortOpt(&o)
			if target != client.SortByKey || order != client.SortAscend {
				o.Fail("sort", "a scan returns keys in ascending key order; use etcd.range for other orders")
			}
		}
		if ps := o.Int("page_size", defaultPageSize); ps < 1 {
			o.Fail("page_size", "must be at least 1, got %d", ps)
		} else {
			s.pageSize = ps
		}
		if n := o.Int("limit", 0); n < 0 {
			o.Fail("limit", "must not be negative, got %d", n)
		} else if n > 0 {
			s.limit, s.limited = n, true
		}
		s.rev = o.Revision("rev")
		s.span, _ = rangeSpan(&o, nil)
		s.read = filterOpts(&o, nil)
		s.serializable = o.Bool("serializable", false)
	}
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	s.kv = kv
	s.ctx, s.cancel = context.WithCancel(c.m.runCtx())
	untrack, ok := c.m.track(s.cancel)
	if !ok {
		s.cancel()
		c.m.raise(L, fn, key, context.Canceled)
	}
	s.stop = untrack
	if err := s.open(); err != nil {
		s.finish()
		c.m.raise(L, fn, key, err)
	}
	L.Push(newObject(L, s, c.m.mt.scan))
	return 1
}

// scanMeta is the metatable of scan iterators: callable, as a generic for
// calls its iterator (the arguments it passes are ignored), with the field
// revision, the revision the whole scan reads at.
func (m *Module) scanMeta(L *lua.LState) *lua.LTable {
	mt := newFieldClass(L, "etcd.scan", nil, func(L *lua.LState, self lua.LValue, key string) lua.LValue {
		s, ok := self.(*lua.LUserData).Value.(*scanState)
		if ok && key == "revision" {
			return num(s.revision)
		}
		return lua.LNil
	}, describeAs("etcd.scan", func(s *scanState) string { return strconv.Quote(s.key) }))
	mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int {
		const fn = "etcd.scan"
		s := selfObject[*scanState](L, fn, "scan iterator")
		t, err := s.next()
		if err != nil {
			s.finish()
			m.raise(L, fn, s.key, err)
		}
		if t == nil {
			L.Push(lua.LNil)
		} else {
			L.Push(t)
		}
		return 1
	}))
	return mt
}

// open starts the stream and reads its first chunk, so that errors (a
// compacted revision, a refused permission) are raised by etcd.scan itself.
func (s *scanState) open() error {
	opts := make([]client.OpOption, 0, len(s.span)+len(s.read)+2)
	opts = append(append(opts, s.span...), s.read...)
	if s.rev > 0 {
		opts = append(opts, client.WithRev(s.rev))
	}
	if s.limited {
		opts = append(opts, client.WithLimit(s.limit))
	}
	var err error
	if rs, ok := s.kv.(client.RangeStreamer); ok {
		// A RangeReader hands out key-values only, not the header of the
		// stream's parts: the scan pins its revision with a read of one
		// key (counted, not sent) and streams at that revision, so that
		// it.revision is known before the first key.
		if s.rev == 0 {
			if s.revision, err = s.headRevision(); err != nil {
				return err
			}
			opts = append(opts, client.WithRev(s.revision))
		}
		// The page size is for a server without streamed ranges, which
		// the reader reads in pages.
		ropts := append(opts[:len(opts):len(opts)], client.WithPageSize(s.pageSize))
		err = s.wait(func() error {
			var err error
			s.rr, err = rs.ReadRange(s.ctx, s.key, ropts...)
			return err
		})
	} else {
		var ch client.GetStreamChan
		ch, err = s.kv.GetStream(s.ctx, s.key, opts...)
		if err == nil {
			s.ch = ch
			err = s.nextChunk()
		}
	}
	if err != nil && status.Code(err) == codes.Unimplemented {
		s.ch, s.rr, s.cur, s.done = nil, nil, nil, false
		s.paged = true
		// The op's own key, not the script's: a whole-keyspace scan
		// ("" with prefix or from_key) starts at "\x00", as Range needs a
		// key.
		op := client.OpGet(s.key, s.span...)
		s.end = op.RangeBytes()
		s.nextKey = string(op.KeyBytes())
		if s.rev == 0 {
			s.rev = s.revision // pinned above, or 0: the first page's
		}
		err = s.nextPage()
		s.revision = s.rev
		return err
	}
	if err == nil && s.rev > 0 {
		s.revision = s.rev
	}
	return err
}

// headRevision reads the cluster's current revision with the cheapest
// read there is: the count of the scan's first key.
func (s *scanState) headRevision() (int64, error) {
	opts := []client.OpOption{client.WithCountOnly()}
	if s.serializable {
		opts = append(opts, client.WithSerializable())
	}
	key := s.key
	if key == "" {
		key = "\x00" // a scan of the whole key space; "" is no key to Get
	}
	ctx, cancel := s.c.callCtx()
	defer cancel()
	resp, err := s.kv.Get(ctx, key, opts...)
	if err != nil {
		return 0, err
	}
	return headerRev(resp.Header), nil
}

// next returns the next key-value as a table, or nil at the end.
func (s *scanState) next() (*lua.LTable, error) {
	if s.rr != nil {
		if s.done {
			return nil, nil
		}
		return s.nextKV()
	}
	for {
		if s.i < len(s.cur) {
			kv := s.cur[s.i]
			// Let the collector have the key-value once it is converted.
			s.cur[s.i] = nil
			s.i++
			return kvTable(kv), nil
		}
		if s.done {
			s.finish()
			return nil, nil
		}
		var err error
		if s.paged {
			err = s.nextPage()
		} else {
			err = s.nextChunk()
		}
		if err != nil {
			return nil, err
		}
	}
}

// nextKV reads the next key-value from the RangeReader. Only a read that
// waits for the server (the next part of the stream) is bounded by the
// per-call timeout.
func (s *scanState) nextKV() (*lua.LTable, error) {
	var b []byte
	var err error
	if s.rr.Buffered() {
		b, err = s.rr.NextEncoded()
	} else {
		err = s.wait(func() error {
			var err error
			b, err = s.rr.NextEncoded()
			return err
		})
	}
	switch {
	case err == io.EOF:
		s.finish()
		return nil, nil
	case err != nil:
		if rerr := s.c.m.runCtx().Err(); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	t, err := kvTableEncoded(b)
	if err != nil {
		return nil, fmt.Errorf("decoding a key-value of the stream: %w", err)
	}
	return t, nil
}

// wait runs f, which waits for the server, for no longer than the per-call
// timeout: when the time is up the scan is cancelled and wait reports
// context.DeadlineExceeded.
func (s *scanState) wait(f func() error) error {
	d := s.c.callTimeout()
	if d <= 0 {
		return f()
	}
	t := time.AfterFunc(d, s.cancel)
	err := f()
	if !t.Stop() {
		return context.DeadlineExceeded
	}
	return err
}

// nextChunk waits for the next chunk of the stream, no longer than the
// per-call timeout: each chunk is one call's worth of waiting.
func (s *scanState) nextChunk() error {
	var timeout <-chan time.Time
	if d := s.c.callTimeout(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r, ok := <-s.ch:
		if !ok {
			if err := s.ctx.Err(); err != nil {
				return s.c.m.runCtx().Err()
			}
			s.cur, s.i, s.done = nil, 0, true
			return nil
		}
		if err := r.Err(); err != nil {
			return err
		}
		if r.RangeResponse == nil {
			s.cur, s.i = nil, 0
			return nil
		}
		if s.revision == 0 {
			// The first part's header: the revision the stream reads at.
			s.revision = headerRev(r.Header)
		}
		s.cur, s.i = r.Kvs, 0
		return nil
	case <-timeout:
		s.cancel()
		return context.DeadlineExceeded
	case <-s.ctx.Done():
		if err := s.c.m.runCtx().Err(); err != nil {
			return err
		}
		return context.Canceled
	}
}

// nextPage reads the next page with a limited Range at the scan's revision.
func (s *scanState) nextPage() error {
	limit := s.pageSize
	if s.limited && s.limit < limit {
		limit = s.limit
	}
	opts := make([]client.OpOption, 0, len(s.read)+3)
	opts = append(opts, s.read...)
	opts = append(opts, client.WithLimit(limit))
	if s.rev > 0 {
		opts = append(opts, client.WithRev(s.rev))
	}
	if len(s.end) > 0 {
		opts = append(opts, client.WithRange(string(s.end)))
	}
	ctx, cancel := s.c.callCtx()
	resp, err := s.kv.Get(ctx, s.nextKey, opts...)
	cancel()
	if err != nil {
		return err
	}
	if s.rev == 0 {
		s.rev = headerRev(resp.Header)
	}
	s.cur, s.i = resp.Kvs, 0
	if s.limited {
		s.limit -= int64(len(resp.Kvs))
	}
	s.done = !resp.More || len(resp.Kvs) == 0 || len(s.end) == 0 || (s.limited && s.limit <= 0)
	if !s.done {
		s.nextKey = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	return nil
}

// finish ends the scan: it stops the stream and forgets the scan.
func (s *scanState) finish() {
	s.done = true
	s.cur = nil
	if s.rr != nil {
		s.rr.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}
