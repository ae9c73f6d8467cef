package client

import (
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// endpointConns holds one gRPC connection per endpoint for the calls that
// must reach one member (Status, HashKV, Defragment, MoveLeader). The
// balanced connection cannot do that: it picks whichever member is next.
// Connections are kept until close, since admin tools tend to ask the same
// members again and a TLS handshake per call would be wasted.
type endpointConns struct {
	c      *Client
	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn // by parsed address and security
	closed bool
}

// get returns the connection to the endpoint named raw, in any form
// Config.Endpoints accepts, opening it on first use with the client's
// dialer, credentials, keepalive and Config.DialOptions.
func (p *endpointConns) get(raw string) (*grpc.ClientConn, error) {
	ep, err := parseEndpoint(raw, p.c.cfg.TLS != nil)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%s|%t", ep.network, ep.addr, ep.secure)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.c.ctx.Err() != nil {
		return nil, ErrClientClosed
	}
	if conn, ok := p.conns[key]; ok {
		return conn, nil
	}
	conn, err := p.c.dialEndpoint(raw, ep)
	if err != nil {
		return nil, err
	}
	if p.conns == nil {
		p.conns = make(map[string]*grpc.ClientConn)
	}
	p.conns[key] = conn
	return conn, nil
}

// close closes every connection; get fails afterwards.
func (p *endpointConns) close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns, p.closed = nil, true
	p.mu.Unlock()
	var first error
	for _, conn := range conns {
		if err := conn.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// dialEndpoint opens a connection to the one endpoint ep (raw as given).
func (c *Client) dialEndpoint(raw string, ep endpoint) (*grpc.ClientConn, error) {
	// A resolver of its own gives the address the same attributes as on
	// the balanced connection, so endpointCreds makes the same TLS choice.
	r := manual.NewBuilderWithScheme("etcdscript-ep")
	r.InitialState(resolver.State{Addresses: []resolver.Address{toAddress(ep)}})
	opts := append([]grpc.DialOption{grpc.WithResolvers(r)}, c.dialOptions(c.cfg.TLS != nil || ep.secure)...)
	conn, err := grpc.NewClient("etcdscript-ep:///"+ep.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("etcdclient: connect to endpoint %s: %w", raw, err)
	}
	return conn, nil
}

// Dial opens a new gRPC connection to the one endpoint ep (in any form
// Config.Endpoints accepts) with the client's dialer, TLS, keepalive and
// Config.DialOptions, for calling services this package does not wrap.
// The caller closes it. Unlike clientv3's, the connection does not add the
// client's auth token to calls: pass it in the call's metadata
// (rpctypes.TokenFieldNameGRPC) if the cluster needs it.
func (c *Client) Dial(ep string) (*grpc.ClientConn, error) {
	parsed, err := parseEndpoint(ep, c.cfg.TLS != nil)
	if err != nil {
		return nil, err
	}
	if c.ctx.Err() != nil {
		return nil, ErrClientClosed
	}
	return c.dialEndpoint(ep, parsed)
}
