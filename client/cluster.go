package client

import (
	"context"
	"net/url"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Response types of the Cluster API: the server's messages under clientv3's
// names.
type (
	Member                pb.Member
	MemberListResponse    pb.MemberListResponse
	MemberAddResponse     pb.MemberAddResponse
	MemberRemoveResponse  pb.MemberRemoveResponse
	MemberUpdateResponse  pb.MemberUpdateResponse
	MemberPromoteResponse pb.MemberPromoteResponse
)

// Cluster manages the membership of the etcd cluster.
//
// Give the changes (add, remove, update, promote) a context with a
// deadline. etcd's leader drops a change proposed while it has not yet
// applied the previous one, and the member that took the request then
// waits for the caller's deadline, however long. A change that timed out
// may still have been applied: read MemberList before repeating it.
type Cluster interface {
	// MemberList lists the members. It is linearizable by default (the
	// member asks the leader, so the list includes every change made so
	// far); WithSerializable answers from the member's own view.
	MemberList(ctx context.Context, opts ...OpOption) (*MemberListResponse, error)

	// MemberAdd adds a voting member with the given peer URLs
	// (http://host:port or https://host:port). Start the new etcd with
	// --initial-cluster-state=existing afterwards.
	MemberAdd(ctx context.Context, peerAddrs []string) (*MemberAddResponse, error)

	// MemberAddAsLearner adds a learner: a member that receives the log but
	// does not vote until MemberPromote.
	MemberAddAsLearner(ctx context.Context, peerAddrs []string) (*MemberAddResponse, error)

	// MemberRemove removes a member by id.
	MemberRemove(ctx context.Context, id uint64) (*MemberRemoveResponse, error)

	// MemberUpdate replaces the peer URLs of a member.
	MemberUpdate(ctx context.Context, id uint64, peerAddrs []string) (*MemberUpdateResponse, error)

	// MemberPromote makes a learner a voting member. The server refuses
	// (rpctypes.ErrMemberLearnerNotReady) until the learner has caught up
	// with the leader's log.
	MemberPromote(ctx context.Context, id uint64) (*MemberPromoteResponse, error)
}

// gRPC method names of the Cluster service.
const (
	methodMemberAdd     = "/etcdserverpb.Cluster/MemberAdd"
	methodMemberRemove  = "/etcdserverpb.Cluster/MemberRemove"
	methodMemberUpdate  = "/etcdserverpb.Cluster/MemberUpdate"
	methodMemberPromote = "/etcdserverpb.Cluster/MemberPromote"
)

type clusterImpl struct{ c *Client }

func newCluster(c *Client) Cluster { return &clusterImpl{c: c} }

// NewCluster returns the Cluster API of c (the same as c.Cluster).
func NewCluster(c *Client) Cluster { return newCluster(c) }

func (cl *clusterImpl) MemberList(ctx context.Context, opts ...OpOption) (*MemberListResponse, error) {
	if ctx == nil {
		return nil, invalidArg("MemberList: nil context")
	}
	op := OpGet("", opts...)
	if op.err != nil {
		return nil, op.err
	}
	resp := new(pb.MemberListResponse)
	if err := cl.c.invoke(ctx, methodMemberList, &pb.MemberListRequest{Linearizable: !op.serializable}, resp, true); err != nil {
		return nil, err
	}
	return (*MemberListResponse)(resp), nil
}

func (cl *clusterImpl) MemberAdd(ctx context.Context, peerAddrs []string) (*MemberAddResponse, error) {
	return cl.memberAdd(ctx, "MemberAdd", peerAddrs, false)
}

func (cl *clusterImpl) MemberAddAsLearner(ctx context.Context, peerAddrs []string) (*MemberAddResponse, error) {
	return cl.memberAdd(ctx, "MemberAddAsLearner", peerAddrs, true)
}

func (cl *clusterImpl) memberAdd(ctx context.Context, name string, peerAddrs []string, learner bool) (*MemberAddResponse, error) {
	if ctx == nil {
		return nil, invalidArg("%s: nil context", name)
	}
	if err := checkPeerURLs(name, peerAddrs); err != nil {
		return nil, err
	}
	resp := new(pb.MemberAddResponse)
	req := &pb.MemberAddRequest{PeerURLs: peerAddrs, IsLearner: learner}
	if err := cl.c.invoke(ctx, methodMemberAdd, req, resp, false); err != nil {
		return nil, err
	}
	return (*MemberAddResponse)(resp), nil
}

func (cl *clusterImpl) MemberRemove(ctx context.Context, id uint64) (*MemberRemoveResponse, error) {
	if ctx == nil {
		return nil, invalidArg("MemberRemove: nil context")
	}
	if id == 0 {
		return nil, invalidArg("MemberRemove: member id 0")
	}
	resp := new(pb.MemberRemoveResponse)
	if err := cl.c.invoke(ctx, methodMemberRemove, &pb.MemberRemoveRequest{ID: id}, resp, false); err != nil {
		return nil, err
	}
	return (*MemberRemoveResponse)(resp), nil
}

func (cl *clusterImpl) MemberUpdate(ctx context.Context, id uint64, peerAddrs []string) (*MemberUpdateResponse, error) {
	if ctx == nil {
		return nil, invalidArg("MemberUpdate: nil context")
	}
	if id == 0 {
		return nil, invalidArg("MemberUpdate: member id 0")
	}
	if err := checkPeerURLs("MemberUpdate", peerAddrs); err != nil {
		return nil, err
	}
	resp := new(pb.MemberUpdateResponse)
	if err := cl.c.invoke(ctx, methodMemberUpdate, &pb.MemberUpdateRequest{ID: id, PeerURLs: peerAddrs}, resp, false); err != nil {
		return nil, err
	}
	return (*MemberUpdateResponse)(resp), nil
}

func (cl *clusterImpl) MemberPromote(ctx context.Context, id uint64) (*MemberPromoteResponse, error) {
	if ctx == nil {
		return nil, invalidArg("MemberPromote: nil context")
	}
	if id == 0 {
		return nil, invalidArg("MemberPromote: member id 0")
	}
	resp := new(pb.MemberPromoteResponse)
	if err := cl.c.invoke(ctx, methodMemberPromote, &pb.MemberPromoteRequest{ID: id}, resp, false); err != nil {
		return nil, err
	}
	return (*MemberPromoteResponse)(resp), nil
}

// checkPeerURLs accepts what etcd accepts as a peer URL: http or https,
// host:port, no path.
func checkPeerURLs(call string, urls []string) error {
	if len(urls) == 0 {
		return invalidArg("%s: no peer URLs", call)
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return invalidArg("%s: peer URL %q: %v", call, s, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return invalidArg("%s: peer URL %q: scheme must be http or https", call, s)
		}
		if u.Port() == "" || strings.TrimSuffix(u.Host, ":"+u.Port()) == "" {
			return invalidArg("%s: peer URL %q: want scheme://host:port", call, s)
		}
		if u.Path != "" || u.RawQuery != "" || u.User != nil {
			return invalidArg("%s: peer URL %q: only scheme://host:port is allowed", call, s)
		}
	}
	return nil
}
