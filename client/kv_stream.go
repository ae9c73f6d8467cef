package client

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
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
	if ctx == nil {
		return nil, invalidArg("GetStream: nil context")
	}
	op := OpGet(key, opts...)
	if err := op.validate(); err != nil {
		return nil, err
	}
	stream, err := k.c.openStream(ctx, rangeStreamDesc, "/etcdserverpb.KV/RangeStream", op.rangeRequest())
	if err != nil {
		return nil, err
	}
	ch := make(chan RangeStreamResponse, 1)
	go func() {
		defer close(ch)
		for {
			m := new(pb.RangeStreamResponse)
			if err := stream.RecvMsg(m); err != nil {
				if !errors.Is(err, io.EOF) {
					select {
					case ch <- RangeStreamResponse{closeErr: k.c.toErr(ctx, err)}:
					case <-ctx.Done():
					}
				}
				return
			}
			select {
			case ch <- RangeStreamResponse{RangeResponse: m.RangeResponse}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// openStream opens a server-streaming call with the auth token, sends req
// and closes the send side, renewing the token once if the server refuses it.
func (c *Client) openStream(ctx context.Context, desc *grpc.StreamDesc, method string, req message) (grpc.ClientStream, error) {
	renewed := false
	for {
		sctx, token, err := c.streamContext(ctx)
		if err != nil {
			return nil, err
		}
		s, err := c.conn.NewStream(sctx, desc, method)
		if err == nil {
			if err = s.SendMsg(req); err == nil {
				err = s.CloseSend()
			}
			if err == nil {
				// The first message tells whether the server accepted the
				// token; a refused one is retried once with a new token.
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
	return metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token), token, nil
}
