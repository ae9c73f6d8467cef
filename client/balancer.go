package client

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/base"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"
)

// balancerName is the load-balancing policy of the balanced connection:
// round-robin over the ready endpoints that skips the ones the health
// tracker (health.go) holds suspect.
const balancerName = "etcdscript_round_robin"

func init() {
	balancer.Register(base.NewBalancerBuilder(balancerName, pickerBuilder{}, base.Config{}))
}

// trackerKey carries a client's *healthTracker in the BalancerAttributes
// of its addresses: the balancer is registered once for the process, and
// this is how a picker finds the client it picks for.
type trackerKey struct{}

// probeKey is the context key of a probe: its value is the address the
// probe must go to.
type probeKey struct{}

// withTracker marks addrs as belonging to tracker t.
func withTracker(addrs []resolver.Address, t *healthTracker) []resolver.Address {
	for i := range addrs {
		addrs[i].BalancerAttributes = attributes.New(trackerKey{}, t)
	}
	return addrs
}

type pickerBuilder struct{}

func (pickerBuilder) Build(info base.PickerBuildInfo) balancer.Picker {
	if len(info.ReadySCs) == 0 {
		return base.NewErrPicker(balancer.ErrNoSubConnAvailable)
	}
	p := &picker{subs: make([]pickSub, 0, len(info.ReadySCs))}
	for sc, sci := range info.ReadySCs {
		s := pickSub{sc: sc, addr: sci.Address.Addr}
		if t, ok := sci.Address.BalancerAttributes.Value(trackerKey{}).(*healthTracker); ok {
			s.st = t.state(sci.Address.Addr)
		}
		p.subs = append(p.subs, s)
	}
	// A fixed order keeps the rotation fair across pickers; a random start
	// keeps many clients from all beginning on the same member.
	slices.SortFunc(p.subs, func(a, b pickSub) int { return strings.Compare(a.addr, b.addr) })
	p.next.Store(rand.Uint32())
	return p
}

type pickSub struct {
	sc   balancer.SubConn
	addr string
	st   *epHealth // nil for an address without a tracker
}

// picker is round-robin over the ready SubConns. It is built anew by gRPC
// whenever the set of ready SubConns changes; the health of each endpoint
// lives in the tracker, which outlives pickers.
type picker struct {
	subs []pickSub
	next atomic.Uint32
}

func (p *picker) Pick(info balancer.PickInfo) (balancer.PickResult, error) {
	if info.FullMethodName == healthCheckMethod {
		if addr, ok := info.Ctx.Value(probeKey{}).(string); ok {
			return p.pickAddr(addr)
		}
	}
	n := uint32(len(p.subs))
	s := &p.subs[p.next.Add(1)%n]
	if s.st == nil {
		return balancer.PickResult{SubConn: s.sc}, nil // no tracker
	}
	if n > 1 && s.st.suspect.Load() {
		s = p.healthy(s)
	}
	if isStreamMethod(info.FullMethodName) {
		// A stream is open for as long as it is used; its age says
		// nothing about the member's health. The watcher's and the
		// lessor's streams are filed under their endpoint, to be moved
		// if it is found hung, even when it is the only one ready now:
		// the others may be by then.
		if a, ok := info.Ctx.Value(attemptKey{}).(*attempt); ok {
			s.st.t.link(a, s.st)
		}
		return balancer.PickResult{SubConn: s.sc}, nil
	}
	if n == 1 {
		// With one endpoint ready there is nowhere else to go: nothing
		// to track.
		return balancer.PickResult{SubConn: s.sc}, nil
	}
	s.st.begin(info.Ctx)
	return balancer.PickResult{SubConn: s.sc, Done: s.st.doneFn}, nil
}

// healthy returns the next SubConn in the rotation whose endpoint is not
// suspect; when all are, one not found hung (a slow machine can make every
// member look stale for a moment), else first. Drawing from the shared
// counter again (rather than taking the neighbour of the suspect) spreads
// the suspect's share evenly over the others.
func (p *picker) healthy(first *pickSub) *pickSub {
	n := uint32(len(p.subs))
	for range n {
		s := &p.subs[p.next.Add(1)%n]
		if s.st == nil || !s.st.suspect.Load() {
			return s
		}
	}
	if !first.st.hung.Load() {
		return first
	}
	for i := range p.subs {
		if st := p.subs[i].st; st == nil || !st.hung.Load() {
			return &p.subs[i]
		}
	}
	return first
}

// pickAddr picks the SubConn of one address, for a probe of that endpoint.
// The probe fails at once when the endpoint has no ready connection: it is
// then not picked for calls anyway.
func (p *picker) pickAddr(addr string) (balancer.PickResult, error) {
	for i := range p.subs {
		if p.subs[i].addr == addr {
			return balancer.PickResult{SubConn: p.subs[i].sc}, nil
		}
	}
	return balancer.PickResult{}, status.Errorf(codes.Unavailable, "etcdclient: endpoint %s has no ready connection", addr)
}

// isStreamMethod reports the streaming methods of etcd and of gRPC health.
func isStreamMethod(method string) bool {
	switch method {
	case "/etcdserverpb.Watch/Watch", "/etcdserverpb.Lease/LeaseKeepAlive", "/etcdserverpb.Maintenance/Snapshot",
		"/etcdserverpb.KV/RangeStream", "/grpc.health.v1.Health/Watch":
		return true
	}
	return false
}
