package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// RangeReader reads a range one key-value at a time, in ascending key
// order, from the server's streamed range (etcd 3.7), or from pages of
// limited Range requests where the server has no streamed range (etcd 3.5
// and 3.6; see the package documentation, Server versions).
//
// GetStream decodes each part of the stream whole, so a reader of parts holds
// a decoded part (about 1.5 times its wire size) while the next arrives. A
// RangeReader keeps a part as the bytes gRPC received and decodes one
// key-value per Next, releasing the received buffers as it goes, and asks
// for the next part only when the caller has read the last: memory stays
// near one part on the wire, however large the range. This is what
// etcdscript's etcd.scan uses.
//
// A RangeReader is not safe for concurrent use. Close it when done (reading
// to the end or to an error also releases it).
type RangeReader interface {
	// Next returns the next key-value, or io.EOF after the last one. Any
	// other error ends the range: a range cut short never reads as
	// complete.
	Next() (*mvccpb.KeyValue, error)
	// NextEncoded is Next without the decoding: it returns the next
	// key-value as its protobuf encoding (an mvccpb.KeyValue message), in
	// a buffer that is valid until the next call. A caller that converts
	// key-values into values of its own (etcd.scan makes Lua strings)
	// saves a copy of every key and value and an allocation per key.
	NextEncoded() ([]byte, error)
	// Buffered reports whether Next returns without waiting for the
	// server, because the part in hand holds another key-value.
	Buffered() bool
	// Close ends the stream and releases its buffers. It is safe to call
	// more than once.
	Close() error
}

// RangeStreamer is implemented by the client's KV and by namespaced KVs:
// a KV that can read a range with a RangeReader.
type RangeStreamer interface {
	// ReadRange opens a streamed range of key (and the range options of
	// opts, as for Get) and reads its first part, so that an error the
	// server answers at once (a compacted revision, a refused permission)
	// is returned here. A range with revision filters, or on a server
	// without streamed ranges (etcd before 3.7), is read in pages of
	// limited Range requests at the revision of the first page
	// (WithPageSize). A sort other than ascending by key fails with
	// codes.Unimplemented: a reader reads in key order.
	ReadRange(ctx context.Context, key string, opts ...OpOption) (RangeReader, error)
}

var errReaderClosed = errors.New("etcdclient: range reader is closed")

// ReadRange implements RangeStreamer.
func (k *kv) ReadRange(ctx context.Context, key string, opts ...OpOption) (RangeReader, error) {
	op, err := streamedRangeOp("ReadRange", ctx, key, opts)
	if err != nil {
		return nil, err
	}
	if k.c.rangeStream.missing() != nil || hasRevisionFilters(&op) {
		return k.readPaged(ctx, op)
	}
	r := &rangeReader{c: k.c, ctx: ctx, pend: -1}
	rs, err := k.openRange(ctx, op, &r.msg, grpc.ForceCodecV2(rawRangeCodec{}))
	if err != nil {
		return nil, err
	}
	r.stream, r.cancel = rs.ClientStream, rs.cancel
	if err := r.took(rs.firstErr); err != nil {
		r.Close()
		if lacksRangeStream(err) {
			k.c.noteRangeStreamErr(err)
			return k.readPaged(ctx, op)
		}
		return nil, err
	}
	return r, nil
}

// hasRevisionFilters reports whether op filters by revision, which etcd
// 3.7 refuses to stream (Unimplemented) and pages serve.
func hasRevisionFilters(op *Op) bool {
	return op.minModRev != 0 || op.maxModRev != 0 || op.minCreateRev != 0 || op.maxCreateRev != 0
}

// rangeReader is the client's RangeReader.
type rangeReader struct {
	c      *Client
	ctx    context.Context
	stream grpc.ClientStream
	cancel context.CancelFunc

	msg   rawRangeMessage // the part in hand
	inner int             // bytes left of the RangeResponse being read
	pend  int             // length of the next key-value in msg, or -1
	buf   []byte          // the encoded key-value being decoded
	done  bool            // the stream has ended (io.EOF), or err is set
	err   error
}

// took handles the result of receiving a part: it positions the reader on
// the part's first key-value, or records the end of the stream.
func (r *rangeReader) took(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		r.done = true
		r.release()
		return nil
	case err != nil:
		r.fail(r.c.toErr(r.ctx, err))
		return r.err
	}
	r.inner = 0
	if r.pend, err = r.advance(); err != nil {
		r.fail(err)
		return err
	}
	return nil
}

func (r *rangeReader) NextEncoded() ([]byte, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		if r.pend >= 0 {
			return r.read()
		}
		if r.done {
			return nil, io.EOF
		}
		r.msg.close()
		if err := r.took(r.stream.RecvMsg(&r.msg)); err != nil {
			return nil, err
		}
	}
}

func (r *rangeReader) Next() (*mvccpb.KeyValue, error) {
	b, err := r.NextEncoded()
	if err != nil {
		return nil, err
	}
	kv := new(mvccpb.KeyValue)
	if err := proto.Unmarshal(b, kv); err != nil {
		r.fail(fmt.Errorf("etcdclient: decoding a key-value of a range part: %w", err))
		return nil, r.err
	}
	return kv, nil
}

func (r *rangeReader) Buffered() bool { return r.err == nil && r.pend >= 0 }

func (r *rangeReader) Close() error {
	if r.err == nil {
		r.err = errReaderClosed
	}
	r.done = true
	r.release()
	return nil
}

// fail ends the reader with err.
func (r *rangeReader) fail(err error) {
	r.err = err
	r.done = true
	r.pend = -1
	r.release()
}

// release ends the stream and frees the part in hand.
func (r *rangeReader) release() {
	r.msg.close()
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
}

// read returns the pending key-value's encoding and moves to the next.
func (r *rangeReader) read() ([]byte, error) {
	n := r.pend
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if err := r.msg.read(b); err != nil {
		r.fail(fmt.Errorf("etcdclient: range part cut short: %w", err))
		return nil, r.err
	}
	var err error
	if r.pend, err = r.advance(); err != nil {
		r.fail(err)
		return nil, err
	}
	return b, nil
}

// The wire shape read here: RangeStreamResponse{range_response = 1:
// RangeResponse{header = 1, kvs = 2 (repeated KeyValue), more = 3,
// count = 4}}. Only kvs matter to a reader of key-values; the rest is
// skipped, and so are fields a later server may add.
const (
	fieldRangeResponse = 1
	fieldKvs           = 2
	wireVarint         = 0
	wireFixed64        = 1
	wireBytes          = 2
	wireFixed32        = 5
)

// advance moves past fields until the next key-value of the part in hand
// and returns its length, or -1 when the part has no more. It never waits:
// the whole part has been received.
func (r *rangeReader) advance() (int, error) {
	for {
		top := r.inner == 0
		if top && r.msg.remaining() == 0 {
			return -1, nil
		}
		tag, err := r.varint()
		if err != nil {
			return -1, err
		}
		field, wire := tag>>3, tag&7
		if wire == wireBytes {
			n, err := r.varint()
			if err != nil {
				return -1, err
			}
			if n > uint64(r.msg.remaining()) || !top && n > uint64(r.inner) {
				return -1, errors.New("etcdclient: malformed range part: a field runs past its message")
			}
			switch {
			case top && field == fieldRangeResponse:
				r.inner = int(n)
				continue
			case !top && field == fieldKvs:
				r.inner -= int(n)
				return int(n), nil
			}
			if err := r.skip(int(n)); err != nil {
				return -1, err
			}
			continue
		}
		var size int
		switch wire {
		case wireVarint:
			if _, err := r.varint(); err != nil {
				return -1, err
			}
		case wireFixed64:
			size = 8
		case wireFixed32:
			size = 4
		default:
			return -1, fmt.Errorf("etcdclient: malformed range part: wire type %d", wire)
		}
		if err := r.skip(size); err != nil {
			return -1, err
		}
	}
}

// varint reads a varint of the part in hand, counting it against the
// RangeResponse being read.
func (r *rangeReader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("etcdclient: malformed range part: varint too long")
}

func (r *rangeReader) byte() (byte, error) {
	if r.inner > 0 {
		r.inner--
	}
	b, err := r.msg.ReadByte()
	if err != nil {
		return 0, errors.New("etcdclient: malformed range part: message cut short")
	}
	return b, nil
}

// skip drops n bytes of the part in hand.
func (r *rangeReader) skip(n int) error {
	if n > r.msg.remaining() || r.inner > 0 && n > r.inner {
		return errors.New("etcdclient: malformed range part: a field runs past its message")
	}
	if r.inner > 0 {
		r.inner -= n
	}
	// Not into r.buf: it holds the key-value NextEncoded returned.
	var discard [512]byte
	for n > 0 {
		chunk := min(n, len(discard))
		if err := r.msg.read(discard[:chunk]); err != nil {
			return errors.New("etcdclient: malformed range part: message cut short")
		}
		n -= chunk
	}
	return nil
}

// rawRangeMessage holds a received RangeStreamResponse as gRPC's buffers,
// unread. Buffers are dropped as they are read, not handed back to gRPC's
// pool: a pool keeps what it is given alive through the next collection,
// and a scan gives back a whole part's worth between two collections, which
// the collector's pacing would count twice over in the heap it allows.
type rawRangeMessage struct {
	bufs mem.BufferSlice
	off  int // read offset in bufs[0]
	n    int // bytes unread
}

func (m *rawRangeMessage) remaining() int { return m.n }

// next returns the unread bytes of the first buffer holding any, dropping
// the buffers read.
func (m *rawRangeMessage) next() []byte {
	for len(m.bufs) > 0 {
		d := m.bufs[0].ReadOnlyData()
		if m.off < len(d) {
			return d[m.off:]
		}
		m.bufs[0] = nil
		m.bufs, m.off = m.bufs[1:], 0
	}
	return nil
}

func (m *rawRangeMessage) ReadByte() (byte, error) {
	if m.n == 0 {
		return 0, io.EOF
	}
	d := m.next()
	m.off++
	m.n--
	return d[0], nil
}

// read fills b, or fails with io.ErrUnexpectedEOF.
func (m *rawRangeMessage) read(b []byte) error {
	if len(b) > m.n {
		return io.ErrUnexpectedEOF
	}
	for len(b) > 0 {
		c := copy(b, m.next())
		m.off += c
		m.n -= c
		b = b[c:]
	}
	return nil
}

func (m *rawRangeMessage) close() {
	clear(m.bufs)
	m.bufs, m.off, m.n = nil, 0, 0
}

// rawRangeCodec is the codec of a ReadRange call: the request is marshalled
// as protobuf, and a response is kept as received (a reference to gRPC's
// buffers, which gRPC would otherwise free after decoding).
type rawRangeCodec struct{}

func (rawRangeCodec) Marshal(v any) (mem.BufferSlice, error) {
	return encoding.GetCodecV2("proto").Marshal(v)
}

func (rawRangeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawRangeMessage)
	if !ok {
		return encoding.GetCodecV2("proto").Unmarshal(data, v)
	}
	// Our own reference, which gRPC's own Free after Unmarshal leaves
	// standing. It is never freed: the buffers go to the collector.
	data.Ref()
	m.close()
	m.bufs, m.n = data, data.Len()
	return nil
}

// Name is the content subtype, which must stay "proto" for the server.
func (rawRangeCodec) Name() string { return "proto" }
