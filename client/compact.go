package client

import pb "go.etcd.io/etcd/api/v3/etcdserverpb"

// CompactOp is a compaction request.
type CompactOp struct {
	revision int64
	physical bool
}

// CompactOption configures a compaction.
type CompactOption func(*CompactOp)

// OpCompact builds a compaction of the history before rev.
func OpCompact(rev int64, opts ...CompactOption) CompactOp {
	op := CompactOp{revision: rev}
	for _, o := range opts {
		o(&op)
	}
	return op
}

// WithCompactPhysical makes Compact return only once the compacted entries
// are removed from the backend.
func WithCompactPhysical() CompactOption { return func(op *CompactOp) { op.physical = true } }

func (op CompactOp) request() *pb.CompactionRequest {
	return &pb.CompactionRequest{Revision: op.revision, Physical: op.physical}
}
