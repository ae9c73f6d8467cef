package client

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// GetStreamChan delivers the parts of a streamed range, then closes.
type GetStreamChan <-chan RangeStreamResponse

// RangeStreamResponse is one part of a streamed range; the last value sent
// before the channel closes may instead carry an error.
type RangeStreamResponse struct {
	*pb.RangeResponse
	closeErr error
}

// Err returns the error that ended the stream, or nil.
func (r *RangeStreamResponse) Err() error { return r.closeErr }

// GetStreamToGetResponse reads a whole stream into one GetResponse.
func GetStreamToGetResponse(stream GetStreamChan) (*GetResponse, error) {
	resp := &pb.RangeResponse{}
	for r := range stream {
		if err := r.Err(); err != nil {
			return nil, err
		}
		proto.Merge(resp, r.RangeResponse)
	}
	return (*GetResponse)(resp), nil
}

var rangeStreamDesc = &grpc.StreamDesc{StreamName: "RangeStream", ServerStreams: true}

func (k *kv) GetStream(ctx context.Context, key string, opts ...OpOption) (GetStreamChan, error) {
	op, err := streamedRangeOp("GetStream", ctx, key, opts)
	if err != nil {
		return nil, err
	}
	if refusal := k.c.rangeStream.missing(); refusal != nil {
		// As the server would answer, without the round trip.
		ch := make(chan RangeStreamResponse, 1)
		ch <- RangeStreamResponse{closeErr: refusal}
		close(ch)
		return ch, nil
	}
	rs, err := k.openRange(ctx, op, new(pb.RangeStreamResponse))
	if err != nil {
		return nil, err
	}
	ch := make(chan RangeStreamResponse, 1)
	go k.pumpStream(ctx, rs.cancel, rs.ClientStream, rs.first.(*pb.RangeStreamResponse), k.c.noteRangeStreamErr(rs.firstErr), ch)
	return ch, nil
}

// ReadRange reads a range one key-value at a time through c.KV, when that
// KV can (see RangeStreamer); otherwise it fails with codes.Unimplemented.
// The client's own KV can on every server version: it reads in pages where
// the server has no streamed range.
func (c *Client) ReadRange(ctx context.Context, key string, opts ...OpOption) (RangeReader, error) {
	if rs, ok := c.KV.(RangeStreamer); ok {
		return rs.ReadRange(ctx, key, opts...)
	}
	return nil, status.Error(codes.Unimplemented, "etcdclient: the client's KV cannot read a range one key-value at a time")
}

// streamedRangeOp checks the arguments of GetStream and ReadRange (named
// by fn) before anything is sent.
func streamedRangeOp(fn string, ctx context.Context, key string, opts []OpOption) (Op, error) {
	if ctx == nil {
		return Op{}, invalidArg("%s: nil context", fn)
	}
	op := OpGet(key, opts...)
	return op, op.validate()
}

// rangeStream is an open RangeStream whose first message has been read.
type rangeStream struct {
	grpc.ClientStream
	cancel   context.CancelFunc // ends the stream
	first    message            // the first message, read into the caller's value
	firstErr error              // the error reading it: io.EOF for an empty stream, or one not retried
}

// openRange opens a RangeStream for op and reads its first message into
// first. The server checks the auth token only when it answers, so the
// first message is read here: a refused token is renewed once and an
// unavailable member is retried, as for Get, while nothing has been
// delivered yet. Any other error of the first message is left in firstErr
// for the caller to deliver; an error opening the stream is returned.
func (k *kv) openRange(ctx context.Context, op Op, first message, callOpts ...grpc.CallOption) (*rangeStream, error) {
	c := k.c
	renewed := false
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithCancel(ctx)
		stream, err := c.openStream(sctx, rangeStreamDesc, "/etcdserverpb.KV/RangeStream", op.rangeRequest(), callOpts...)
		if err != nil {
			cancel()
			return nil, err
		}
		err = stream.RecvMsg(first)
		if err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil && c.ctx.Err() == nil {
			retry := false
			switch {
			case !renewed && isTokenError(err) && c.auth.enabled():
				renewed = true
				if _, rerr := c.auth.get(ctx, c.auth.current()); rerr != nil {
					cancel()
					return nil, rerr
				}
				retry = true
			case shouldRetry(err, true):
				retry = sleepCtx(ctx, retryBackoff(attempt)) == nil
			}
			if retry {
				cancel()
				continue
			}
		}
		return &rangeStream{ClientStream: stream, cancel: cancel, first: first, firstErr: err}, nil
	}
}

// pumpStream delivers first (or firstErr) and the rest of the stream on ch,
// then closes ch. A stream that did not reach its end always leaves its
// error as the last value, even when ctx ended or the client closed and
// nobody reads any more: a range cut short must never read as complete.
func (k *kv) pumpStream(ctx context.Context, cancel context.CancelFunc, stream grpc.ClientStream, first *pb.RangeStreamResponse, firstErr error, ch chan RangeStreamResponse) {
	defer close(ch)
	defer cancel()
	fail := func(err error) {
		r := RangeStreamResponse{closeErr: k.c.toErr(ctx, err)}
		select {
		case ch <- r:
			return
		case <-ctx.Done():
		case <-k.c.ctx.Done():
		}
		// Nobody may read any more: free the channel's one slot (a part
		// the caller would not see anyway) for the error. Only this
		// goroutine sends, so the send cannot block.
		select {
		case <-ch:
		default:
		}
		ch <- r
	}
	m, err := first, firstErr
	for {
		if err != nil {
			if !errors.Is(err, io.EOF) {
				fail(err)
			}
			return
		}
		select {
		case ch <- RangeStreamResponse{RangeResponse: m.RangeResponse}:
		case <-ctx.Done():
			fail(ctx.Err())
			return
		case <-k.c.ctx.Done():
			fail(ErrClientClosed)
			return
		}
		m = new(pb.RangeStreamResponse)
		err = stream.RecvMsg(m)
	}
}

// openStream opens a server-streaming call with the auth token, sends req
// and closes the send side, renewing the token once if opening fails on it.
// A server refuses a stale token only in its first answer, which the caller
// reads (GetStream, Snapshot).
func (c *Client) openStream(ctx context.Context, desc *grpc.StreamDesc, method string, req message, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
	renewed := false
	for {
		sctx, token, err := c.streamContext(ctx)
		if err != nil {
			return nil, err
		}
		s, err := c.conn.NewStream(sctx, desc, method, callOpts...)
		if err == nil {
			if err = s.SendMsg(req); err == nil {
				err = s.CloseSend()
			}
			if err == nil {
				// The server checks the token when it answers: the caller
				// reads the first message and renews a refused token.
				return s, nil
			}
		}
		if !renewed && isTokenError(err) && c.auth.enabled() {
			renewed = true
			if _, rerr := c.auth.get(ctx, token); rerr != nil {
				return nil, rerr
			}
			continue
		}
		return nil, c.toErr(ctx, err)
	}
}

// streamContext returns ctx carrying the auth token (when the client logs
// in) for a new stream, and the token used.
func (c *Client) streamContext(ctx context.Context) (context.Context, string, error) {
	if !c.auth.enabled() {
		return ctx, "", nil
	}
	token, err := c.auth.get(ctx, "")
	if err != nil {
		return nil, "", err
	}
	return withToken(ctx, token), token, nil
}
