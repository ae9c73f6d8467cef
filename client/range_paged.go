package client

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// ErrNoRangeStream is wrapped by the error of GetStream on a server without
// streamed ranges: etcd before 3.7 answers RangeStream with gRPC
// Unimplemented. The error keeps that status (status.Code reports
// codes.Unimplemented, as with clientv3) and adds this explanation.
// ReadRange does not fail this way: it reads such a server in pages.
var ErrNoRangeStream = errors.New("etcdclient: the server has no streamed range (RangeStream needs etcd 3.7 or later)")

// noRangeStreamError is the server's Unimplemented answer to RangeStream,
// explained.
type noRangeStreamError struct{ st *status.Status }

func (e *noRangeStreamError) Error() string {
	return ErrNoRangeStream.Error() + ": " + e.st.Message()
}

func (e *noRangeStreamError) Unwrap() error { return ErrNoRangeStream }

// GRPCStatus keeps the server's status for status.Code and status.FromError.
func (e *noRangeStreamError) GRPCStatus() *status.Status { return e.st }

// lacksRangeStream reports whether err is a server's answer that it has no
// RangeStream at all: Unimplemented, but not one of etcd 3.7's refusals of
// a request it cannot stream ("RangeStream does not support custom sort
// orders", "... revision filters"), which say nothing about the next call.
func lacksRangeStream(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unimplemented && !strings.Contains(st.Message(), "does not support")
}

// rangeStreamRecheck is how long a client goes on assuming, without
// asking, that its cluster has no RangeStream. A cluster upgraded to 3.7
// under a long-lived client gets streamed ranges again within this time.
const rangeStreamRecheck = 5 * time.Minute

// rangeStreamMemo remembers that the cluster answered RangeStream with
// Unimplemented, so that every later GetStream and ReadRange does not pay a
// refused round trip first (which made a scan on etcd 3.5 cost about two
// ranges). A client is balanced over all its endpoints and cannot tell
// which member its next call reaches, so the memo is per client, and
// holds while the client's connections do: it is forgotten when the client
// opens a new connection (a reconnect, to a member that may have been
// upgraded, or to another endpoint), when the endpoints change
// (SetEndpoints, Sync), and after rangeStreamRecheck.
type rangeStreamMemo struct {
	refusal atomic.Pointer[rangeStreamRefusal] // nil while not known
	dials   atomic.Uint64                      // connections opened
}

type rangeStreamRefusal struct {
	at    time.Time
	dials uint64              // the connections opened until the refusal
	err   *noRangeStreamError // the server's answer, for GetStream to repeat
}

// missing returns the remembered refusal, or nil when the client should
// ask the server.
func (m *rangeStreamMemo) missing() *noRangeStreamError {
	r := m.refusal.Load()
	if r == nil || r.dials != m.dials.Load() || time.Since(r.at) >= rangeStreamRecheck {
		return nil
	}
	return r.err
}

func (m *rangeStreamMemo) reset() { m.refusal.Store(nil) }

// connected counts a new connection.
func (m *rangeStreamMemo) connected() { m.dials.Add(1) }

// noteRangeStreamErr records a refusal of RangeStream and returns err,
// explained when it is one.
func (c *Client) noteRangeStreamErr(err error) error {
	if !lacksRangeStream(err) {
		return err
	}
	st, _ := status.FromError(err)
	e := &noRangeStreamError{st: st}
	m := &c.rangeStream
	m.refusal.Store(&rangeStreamRefusal{at: time.Now(), dials: m.dials.Load(), err: e})
	return e
}

// DefaultPageSize is the number of keys of each Range request of a paged
// read (see WithPageSize).
const DefaultPageSize = 1000

// pagedReader is the RangeReader of a server without streamed ranges: it
// reads the range with Range requests of a page of keys each, all at the
// revision of the first (or the caller's), so the whole range reads as one
// revision, as a stream does. Memory stays near one page.
type pagedReader struct {
	k    *kv
	ctx  context.Context
	op   Op    // the caller's range; key moves on page by page
	left int64 // keys still to read when op has a limit
	page []*mvccpb.KeyValue
	i    int
	last bool // page is the range's last one
	buf  []byte
	err  error
}

// readPaged opens a paged read of op and reads its first page.
func (k *kv) readPaged(ctx context.Context, op Op) (RangeReader, error) {
	if op.sort != nil && !(op.sort.Order == SortNone || op.sort.Target == SortByKey && op.sort.Order == SortAscend) {
		// Pages follow each other by key; only Get can sort otherwise.
		return nil, status.Errorf(codes.Unimplemented, "etcdclient: ReadRange reads in ascending key order; use Get for sort %v/%v", op.sort.Target, op.sort.Order)
	}
	op.sort = nil
	r := &pagedReader{k: k, ctx: ctx, op: op, left: op.limit}
	if err := r.fetch(); err != nil {
		return nil, err
	}
	return r, nil
}

// fetch reads the next page.
func (r *pagedReader) fetch() error {
	op := r.op
	op.limit = op.pageSize
	if op.limit <= 0 {
		op.limit = DefaultPageSize
	}
	if r.left > 0 && r.left < op.limit {
		op.limit = r.left
	}
	resp, err := r.k.Do(r.ctx, op)
	if err != nil {
		r.fail(err)
		return err
	}
	g := resp.get
	if r.op.rev == 0 && g.Header != nil {
		r.op.rev = g.Header.Revision
	}
	r.page, r.i = g.Kvs, 0
	if r.left > 0 {
		r.left -= int64(len(g.Kvs))
	}
	r.last = !g.More || len(g.Kvs) == 0 || len(r.op.end) == 0 || r.op.limit > 0 && r.left <= 0
	if !r.last {
		r.op.key = append(append([]byte(nil), g.Kvs[len(g.Kvs)-1].Key...), 0)
	}
	return nil
}

func (r *pagedReader) fail(err error) {
	r.err = err
	r.page, r.i, r.last = nil, 0, true
}

func (r *pagedReader) Next() (*mvccpb.KeyValue, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		if r.i < len(r.page) {
			kv := r.page[r.i]
			// The caller owns it now; the page no longer holds it.
			r.page[r.i] = nil
			r.i++
			return kv, nil
		}
		if r.last {
			r.page = nil
			return nil, io.EOF
		}
		if err := r.fetch(); err != nil {
			return nil, err
		}
	}
}

func (r *pagedReader) NextEncoded() ([]byte, error) {
	kv, err := r.Next()
	if err != nil {
		return nil, err
	}
	r.buf, err = proto.MarshalOptions{}.MarshalAppend(r.buf[:0], kv)
	if err != nil {
		r.fail(err)
		return nil, err
	}
	return r.buf, nil
}

func (r *pagedReader) Buffered() bool { return r.err == nil && r.i < len(r.page) }

func (r *pagedReader) Close() error {
	if r.err == nil {
		r.fail(errReaderClosed)
	}
	return nil
}
