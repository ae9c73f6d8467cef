package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// Response types of the Maintenance API: the server's messages under
// clientv3's names.
type (
	DefragmentResponse pb.DefragmentResponse
	AlarmResponse      pb.AlarmResponse
	AlarmMember        pb.AlarmMember
	StatusResponse     pb.StatusResponse
	HashKVResponse     pb.HashKVResponse
	MoveLeaderResponse pb.MoveLeaderResponse
	DowngradeResponse  pb.DowngradeResponse

	// DowngradeAction is what Downgrade asks for.
	DowngradeAction pb.DowngradeRequest_DowngradeAction
)

// The downgrade actions: check that a downgrade to the version is possible,
// start it, or cancel one in progress.
const (
	DowngradeValidate = DowngradeAction(pb.DowngradeRequest_VALIDATE)
	DowngradeEnable   = DowngradeAction(pb.DowngradeRequest_ENABLE)
	DowngradeCancel   = DowngradeAction(pb.DowngradeRequest_CANCEL)
)

// Maintenance holds the operator calls: alarms, status, hashes,
// defragmentation, snapshots and leadership transfer. The calls that take an
// endpoint are sent to exactly that member, over a connection of its own
// made with the client's TLS, dial and keepalive settings and
// Config.DialOptions; those connections are kept until the client is closed.
type Maintenance interface {
	// AlarmList returns the active alarms of all members.
	AlarmList(ctx context.Context) (*AlarmResponse, error)

	// AlarmDisarm clears one alarm; an AlarmMember with MemberID 0 and
	// Alarm NONE clears every active alarm, and then the response, which
	// lists the alarms cleared, has no Header (as in clientv3).
	AlarmDisarm(ctx context.Context, m *AlarmMember) (*AlarmResponse, error)

	// Defragment compacts the backend file of the member at endpoint,
	// giving freed space back to the file system. The member serves no
	// other request while it runs: defragment members one at a time.
	Defragment(ctx context.Context, endpoint string) (*DefragmentResponse, error)

	// Status returns the status of the member at endpoint: its version, id
	// (in the header), the leader it follows, database size and raft
	// indexes.
	Status(ctx context.Context, endpoint string) (*StatusResponse, error)

	// HashKV returns the hash of the key-value store of the member at
	// endpoint, at revision rev (0 means the latest). Members that agree
	// report the same hash for the same revision.
	HashKV(ctx context.Context, endpoint string, rev int64) (*HashKVResponse, error)

	// SnapshotWithVersion streams a point-in-time snapshot of the backend
	// of the member the client reaches, with the header that marks its
	// point in time and the server's version. The snapshot is read from
	// the network as the returned reader is read, never held in memory
	// whole; close the reader when done. Reading fails once ctx ends.
	SnapshotWithVersion(ctx context.Context) (*SnapshotResponse, error)

	// Snapshot is SnapshotWithVersion without the header and version.
	//
	// Deprecated: use SnapshotWithVersion.
	Snapshot(ctx context.Context) (io.ReadCloser, error)

	// MoveLeader makes the member transfereeID the leader. The request is
	// sent to the current leader, found by asking the client's endpoints
	// for their status (and the member list when no endpoint is the
	// leader); it is sent again if leadership moved meanwhile.
	MoveLeader(ctx context.Context, transfereeID uint64) (*MoveLeaderResponse, error)

	// Downgrade validates, enables or cancels a downgrade of the cluster
	// version (etcd 3.5 and later).
	Downgrade(ctx context.Context, action DowngradeAction, version string) (*DowngradeResponse, error)
}

// SnapshotResponse is a snapshot being streamed.
type SnapshotResponse struct {
	// Header is the header of the first message of the stream: its
	// revision is the point in time of the snapshot.
	Header *pb.ResponseHeader
	// Snapshot reads the snapshot's bytes (the backend file followed by
	// its SHA-256, as etcdutl snapshot restore expects). The caller must
	// close it.
	Snapshot io.ReadCloser
	// Version is the version of the server that made the snapshot (etcd
	// 3.6 and later), which says which etcd should restore it.
	Version string
}

// gRPC method names of the Maintenance service.
const (
	methodAlarm      = "/etcdserverpb.Maintenance/Alarm"
	methodDefragment = "/etcdserverpb.Maintenance/Defragment"
	methodHashKV     = "/etcdserverpb.Maintenance/HashKV"
	methodSnapshot   = "/etcdserverpb.Maintenance/Snapshot"
	methodMoveLeader = "/etcdserverpb.Maintenance/MoveLeader"
	methodDowngrade  = "/etcdserverpb.Maintenance/Downgrade"
)

// moveLeaderAttempts bounds how often MoveLeader looks for the leader again
// after the member it found says it is not the leader any more.
const moveLeaderAttempts = 5

type maintenanceImpl struct {
	c   *Client
	eps *endpointConns
}

func newMaintenance(c *Client) Maintenance {
	return &maintenanceImpl{c: c, eps: &endpointConns{c: c}}
}

// NewMaintenance returns the Maintenance API of c: c.Maintenance itself, so
// that its per-endpoint connections are the ones Client.Close closes.
func NewMaintenance(c *Client) Maintenance {
	if m, ok := c.Maintenance.(*maintenanceImpl); ok {
		return m
	}
	return newMaintenance(c)
}

// Close closes the per-endpoint connections. Client.Close calls it.
func (m *maintenanceImpl) Close() error { return m.eps.close() }

// onEndpoint makes a unary call on the member at endpoint.
func (m *maintenanceImpl) onEndpoint(ctx context.Context, endpoint, method string, req, resp message, safe bool) error {
	if ctx == nil {
		return invalidArg("%s: nil context", method)
	}
	conn, err := m.eps.get(endpoint)
	if err != nil {
		return err
	}
	err = m.c.invokeOn(ctx, conn, method, req, resp, safe)
	return m.endpointError(ctx, endpoint, conn, err)
}

// endpointError makes a call that timed out while its endpoint was
// unreachable say so, as the balanced connection's calls do; toErr only
// looks at the balanced connection, which may well be fine.
func (m *maintenanceImpl) endpointError(ctx context.Context, endpoint string, conn *grpc.ClientConn, err error) error {
	cerr := ctx.Err()
	if err == nil || cerr == nil || !errors.Is(err, cerr) || conn.GetState() == connectivity.Ready {
		return err
	}
	var ce *ConnectError
	if errors.As(err, &ce) && ce.Endpoint == endpoint {
		return err
	}
	ce = &ConnectError{Err: cerr, Endpoint: endpoint, Cause: errors.New("connection not established")}
	if ep, perr := parseEndpoint(endpoint, m.c.cfg.TLS != nil); perr == nil {
		if f := m.c.lastConnErr.Load(); f != nil && f.endpoint == ep.addr {
			ce.Cause = f.err
		}
	}
	return ce
}

func (m *maintenanceImpl) AlarmList(ctx context.Context) (*AlarmResponse, error) {
	if ctx == nil {
		return nil, invalidArg("AlarmList: nil context")
	}
	resp := new(pb.AlarmResponse)
	req := &pb.AlarmRequest{Action: pb.AlarmRequest_GET, MemberID: 0, Alarm: pb.AlarmType_NONE}
	if err := m.c.invoke(ctx, methodAlarm, req, resp, true); err != nil {
		return nil, err
	}
	return (*AlarmResponse)(resp), nil
}

func (m *maintenanceImpl) AlarmDisarm(ctx context.Context, am *AlarmMember) (*AlarmResponse, error) {
	if ctx == nil {
		return nil, invalidArg("AlarmDisarm: nil context")
	}
	if am == nil {
		return nil, invalidArg("AlarmDisarm: nil alarm (use &AlarmMember{} to disarm every alarm)")
	}
	if am.MemberID == 0 && am.Alarm == pb.AlarmType_NONE {
		// The server needs a member and an alarm type: disarm each
		// active alarm in turn.
		list, err := m.AlarmList(ctx)
		if err != nil {
			return nil, err
		}
		// The answer has no header, as clientv3's: no one server
		// response stands for the several calls.
		out := &AlarmResponse{}
		for _, a := range list.Alarms {
			r, err := m.AlarmDisarm(ctx, (*AlarmMember)(a))
			if err != nil {
				return nil, fmt.Errorf("etcdclient: disarm %s alarm of member %x: %w", a.Alarm, a.MemberID, err)
			}
			out.Alarms = append(out.Alarms, r.Alarms...)
		}
		return out, nil
	}
	resp := new(pb.AlarmResponse)
	req := &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: am.MemberID, Alarm: am.Alarm}
	if err := m.c.invoke(ctx, methodAlarm, req, resp, false); err != nil {
		return nil, err
	}
	return (*AlarmResponse)(resp), nil
}

func (m *maintenanceImpl) Defragment(ctx context.Context, endpoint string) (*DefragmentResponse, error) {
	resp := new(pb.DefragmentResponse)
	if err := m.onEndpoint(ctx, endpoint, methodDefragment, &pb.DefragmentRequest{}, resp, false); err != nil {
		return nil, err
	}
	return (*DefragmentResponse)(resp), nil
}

func (m *maintenanceImpl) Status(ctx context.Context, endpoint string) (*StatusResponse, error) {
	resp := new(pb.StatusResponse)
	if err := m.onEndpoint(ctx, endpoint, methodStatus, &pb.StatusRequest{}, resp, true); err != nil {
		return nil, err
	}
	return (*StatusResponse)(resp), nil
}

func (m *maintenanceImpl) HashKV(ctx context.Context, endpoint string, rev int64) (*HashKVResponse, error) {
	if rev < 0 {
		return nil, invalidArg("HashKV(%s, %d): the revision must not be negative", endpoint, rev)
	}
	resp := new(pb.HashKVResponse)
	if err := m.onEndpoint(ctx, endpoint, methodHashKV, &pb.HashKVRequest{Revision: rev}, resp, true); err != nil {
		return nil, err
	}
	return (*HashKVResponse)(resp), nil
}

func (m *maintenanceImpl) Downgrade(ctx context.Context, action DowngradeAction, version string) (*DowngradeResponse, error) {
	if ctx == nil {
		return nil, invalidArg("Downgrade: nil context")
	}
	if _, ok := pb.DowngradeRequest_DowngradeAction_name[int32(action)]; !ok {
		return nil, invalidArg("Downgrade: unknown action %d (want DowngradeValidate, DowngradeEnable or DowngradeCancel)", action)
	}
	resp := new(pb.DowngradeResponse)
	req := &pb.DowngradeRequest{Action: pb.DowngradeRequest_DowngradeAction(action), Version: version}
	if err := m.c.invoke(ctx, methodDowngrade, req, resp, action == DowngradeValidate); err != nil {
		return nil, err
	}
	return (*DowngradeResponse)(resp), nil
}

func (m *maintenanceImpl) MoveLeader(ctx context.Context, transfereeID uint64) (*MoveLeaderResponse, error) {
	if ctx == nil {
		return nil, invalidArg("MoveLeader: nil context")
	}
	if transfereeID == 0 {
		return nil, invalidArg("MoveLeader: transferee id 0")
	}
	for attempt := 1; ; attempt++ {
		ep, err := m.leaderEndpoint(ctx)
		if err != nil {
			return nil, fmt.Errorf("etcdclient: MoveLeader: find the leader: %w", err)
		}
		resp := new(pb.MoveLeaderResponse)
		err = m.onEndpoint(ctx, ep, methodMoveLeader, &pb.MoveLeaderRequest{TargetID: transfereeID}, resp, false)
		if err == nil {
			return (*MoveLeaderResponse)(resp), nil
		}
		// A member that is not the leader refuses before doing anything,
		// so asking again whoever leads now is safe.
		if !errors.Is(err, rpctypes.ErrNotLeader) || attempt >= moveLeaderAttempts {
			return nil, err
		}
		if werr := sleepCtx(ctx, retryBackoff(attempt)); werr != nil {
			return nil, err
		}
	}
}

// leaderEndpoint returns an endpoint of the current leader. It asks every
// endpoint for its status at once and takes the first that is the leader;
// if the first answer comes from a follower, it looks the leader's client
// URL up in the member list instead of waiting for the other endpoints, one
// of which may be down.
func (m *maintenanceImpl) leaderEndpoint(ctx context.Context) (string, error) {
	eps := m.c.Endpoints()
	sctx, cancel := context.WithCancel(ctx)
	type result struct {
		ep   string
		resp *StatusResponse
		err  error
	}
	results := make(chan result, len(eps))
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := m.Status(sctx, ep)
			results <- result{ep, r, err}
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	var (
		leader  uint64
		lastErr error
	)
	for range eps {
		r := <-results
		if r.err != nil {
			lastErr = r.err
			continue
		}
		if r.resp.Leader != 0 && r.resp.Header.GetMemberId() == r.resp.Leader {
			return r.ep, nil
		}
		if r.resp.Leader != 0 {
			leader = r.resp.Leader
			break
		}
	}
	if leader == 0 {
		if lastErr == nil {
			lastErr = rpctypes.ErrNoLeader
		}
		return "", lastErr
	}
	return m.clientURLOf(ctx, leader)
}

// clientURLOf returns a client URL of member id, preferring one the client
// already uses.
func (m *maintenanceImpl) clientURLOf(ctx context.Context, id uint64) (string, error) {
	list, err := (&clusterImpl{c: m.c}).MemberList(ctx)
	if err != nil {
		return "", err
	}
	for _, mem := range list.Members {
		if mem.ID != id {
			continue
		}
		if len(mem.ClientURLs) == 0 {
			return "", fmt.Errorf("etcdclient: leader %x has no client URL", id)
		}
		known := map[string]bool{}
		for _, ep := range m.c.Endpoints() {
			if p, err := parseEndpoint(ep, m.c.cfg.TLS != nil); err == nil {
				known[p.addr] = true
			}
		}
		for _, u := range mem.ClientURLs {
			if p, err := parseEndpoint(u, m.c.cfg.TLS != nil); err == nil && known[p.addr] {
				return u, nil
			}
		}
		return mem.ClientURLs[0], nil
	}
	return "", fmt.Errorf("etcdclient: leader %x is not in the member list", id)
}

func (m *maintenanceImpl) Snapshot(ctx context.Context) (io.ReadCloser, error) {
	resp, err := m.SnapshotWithVersion(ctx)
	if err != nil {
		return nil, err
	}
	return resp.Snapshot, nil
}

var snapshotDesc = &grpc.StreamDesc{StreamName: "Snapshot", ServerStreams: true}

func (m *maintenanceImpl) SnapshotWithVersion(ctx context.Context) (*SnapshotResponse, error) {
	if ctx == nil {
		return nil, invalidArg("SnapshotWithVersion: nil context")
	}
	renewed := false
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithCancel(ctx)
		stream, err := m.c.openStream(sctx, snapshotDesc, methodSnapshot, &pb.SnapshotRequest{})
		if err != nil {
			cancel()
			return nil, err
		}
		// The first message carries the header and version; reading it
		// also tells whether the server accepted the request at all.
		first := new(pb.SnapshotResponse)
		err = stream.RecvMsg(first)
		if err == nil {
			r := &snapshotReader{c: m.c, ctx: ctx, stream: stream, cancel: cancel, buf: first.Blob}
			return &SnapshotResponse{Header: first.Header, Snapshot: r, Version: first.Version}, nil
		}
		cancel()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("etcdclient: snapshot stream ended before its first message")
		}
		switch {
		case ctx.Err() != nil || m.c.ctx.Err() != nil:
		case !renewed && isTokenError(err) && m.c.auth.enabled():
			renewed = true
			if _, rerr := m.c.auth.get(ctx, m.c.auth.current()); rerr != nil {
				return nil, rerr
			}
			continue
		case shouldRetry(err, true):
			// Nothing was read yet, so starting over loses nothing.
			if sleepCtx(ctx, retryBackoff(attempt)) == nil {
				continue
			}
		}
		return nil, m.c.toErr(ctx, err)
	}
}

// snapshotReader reads a snapshot stream message by message: at most one
// message's blob (etcd sends 32 KiB) is held at a time.
type snapshotReader struct {
	c      *Client
	ctx    context.Context
	stream grpc.ClientStream
	cancel context.CancelFunc
	buf    []byte
	err    error // sticky: io.EOF at the end, or the stream's error
	closed atomic.Bool
}

var errSnapshotClosed = fmt.Errorf("etcdclient: snapshot reader: %w", os.ErrClosed)

func (r *snapshotReader) Read(p []byte) (int, error) {
	if r.closed.Load() {
		return 0, errSnapshotClosed
	}
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		msg := new(pb.SnapshotResponse)
		if err := r.stream.RecvMsg(msg); err != nil {
			r.cancel()
			switch {
			case errors.Is(err, io.EOF):
				r.err = io.EOF
			case r.closed.Load():
				r.err = errSnapshotClosed
			default:
				r.err = r.c.toErr(r.ctx, err)
			}
			continue
		}
		r.buf = msg.Blob
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close ends the stream. It may be called while a Read is blocked, which
// then fails.
func (r *snapshotReader) Close() error {
	r.closed.Store(true)
	r.cancel()
	return nil
}
