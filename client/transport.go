package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/resolver"
)

// connFailure records the last failed connection attempt, so that a call
// that times out while nothing is reachable can say why.
type connFailure struct {
	endpoint string
	err      error
	at       time.Time
}

func (c *Client) noteConnFailure(addr string, err error) {
	c.lastConnErr.Store(&connFailure{endpoint: addr, err: err, at: time.Now()})
	c.lg.Debug("etcd connection failed")
}

// connectError returns a ConnectError for ctxErr when no connection is
// ready, and nil when one is (the call then timed out for another reason).
func (c *Client) connectError(ctxErr error) error {
	if c.conn == nil || c.conn.GetState() == connectivity.Ready {
		return nil
	}
	ce := &ConnectError{Err: ctxErr}
	if f := c.lastConnErr.Load(); f != nil {
		ce.Endpoint, ce.Cause = f.endpoint, f.err
	} else {
		ce.Endpoint = strings.Join(c.Endpoints(), ",")
		ce.Cause = errors.New("connection not established yet")
	}
	return ce
}

// dial opens the raw connection to one resolved address, noting failures.
func (c *Client) dial(ctx context.Context, addr string) (net.Conn, error) {
	network := "tcp"
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", path
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		c.noteConnFailure(addr, err)
	} else {
		c.rangeStream.connected()
	}
	return conn, err
}

type secureKey struct{}

func toAddress(ep endpoint) resolver.Address {
	return resolver.Address{
		Addr:       ep.dialAddr(),
		ServerName: ep.host,
		Attributes: attributes.New(secureKey{}, ep.secure),
	}
}

// endpointCreds does TLS for addresses marked secure and nothing for the
// others, so one connection can mix http:// and https:// endpoints.
type endpointCreds struct {
	tls  credentials.TransportCredentials
	note func(addr string, err error)
}

type plainAuthInfo struct{ credentials.CommonAuthInfo }

func (plainAuthInfo) AuthType() string { return "insecure" }

func (e *endpointCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	secure := false
	if info := credentials.ClientHandshakeInfoFromContext(ctx); info.Attributes != nil {
		secure, _ = info.Attributes.Value(secureKey{}).(bool)
	}
	if !secure {
		return raw, plainAuthInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}, nil
	}
	addr := raw.RemoteAddr().String()
	conn, ai, err := e.tls.ClientHandshake(ctx, authority, raw)
	if err != nil {
		e.note(addr, fmt.Errorf("TLS handshake: %w", err))
		return conn, ai, err
	}
	return &firstReadConn{Conn: conn, note: func(err error) { e.note(addr, fmt.Errorf("TLS: %w", err)) }}, ai, nil
}

// firstReadConn notes the error of a TLS connection that fails before the
// server sent anything. With TLS 1.3 the client's side of the handshake
// ends before the server has checked the client's certificate, so a server
// refusing it (none given, unknown CA) says so only on the first read.
// A read cut by gRPC closing the connection itself (after a failed write of
// its preface, say) tells nothing about the server, and must not replace the
// server's own reason noted by an earlier attempt.
type firstReadConn struct {
	net.Conn
	note func(error)
	got  atomic.Bool
}

func (c *firstReadConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.got.Store(true)
	} else if err != nil && !c.got.Load() && !errors.Is(err, net.ErrClosed) {
		c.note(err)
	}
	return n, err
}

func (e *endpointCreds) ServerHandshake(net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("etcdclient: server handshake not supported")
}

func (e *endpointCreds) Info() credentials.ProtocolInfo { return e.tls.Info() }

func (e *endpointCreds) Clone() credentials.TransportCredentials {
	return &endpointCreds{tls: e.tls.Clone(), note: e.note}
}

//lint:ignore SA1019 required by the TransportCredentials interface.
func (e *endpointCreds) OverrideServerName(name string) error {
	return e.tls.OverrideServerName(name) //nolint:staticcheck
}

func newEndpointCreds(cfg *tls.Config, note func(string, error)) *endpointCreds {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg = cfg.Clone()
	}
	return &endpointCreds{tls: credentials.NewTLS(cfg), note: note}
}
