package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/etcdscript/etcdscript/embedetcd"
)

// ErrNotRunning is returned by member operations that need a running member.
var ErrNotRunning = errors.New("etcdtest: member is not running")

// Member is one etcd server of a Cluster. Stop, Kill and Restart of one
// member must not be called concurrently; the other methods may be.
type Member struct {
	c          *Cluster
	name       string
	dir        string
	clientPort int
	peerPort   int
	proxy      *Proxy // in front of the client URL, or nil
	peerProxy  *Proxy // in front of the peer URL, or nil
	id         uint64 // known once the member has started

	mu  sync.Mutex
	run *embedetcd.Server // nil while stopped
}

// Name returns the member's name, unique in its cluster (m0, m1, ...).
func (m *Member) Name() string { return m.name }

// ID returns the member's raft id, as MemberList reports it.
func (m *Member) ID() uint64 { return m.id }

// DataDir returns the member's data directory.
func (m *Member) DataDir() string { return m.dir }

// Endpoint returns the host:port clients dial for this member: the client
// proxy's address when Options.Proxy is set, otherwise the member's own.
func (m *Member) Endpoint() string {
	if m.proxy != nil {
		return m.proxy.Addr()
	}
	return hostPort(m.clientPort)
}

// ClientURL returns Endpoint with its scheme, http:// or https://.
func (m *Member) ClientURL() string { return m.c.clientScheme() + "://" + m.Endpoint() }

// ListenAddr returns the host:port on which the member itself serves
// clients, behind the proxy if there is one.
func (m *Member) ListenAddr() string { return hostPort(m.clientPort) }

// PeerURL returns the peer URL the member advertises to the other members:
// its peer proxy's in a cluster of several members.
func (m *Member) PeerURL() string {
	if m.peerProxy != nil {
		return "http://" + m.peerProxy.Addr()
	}
	return "http://" + hostPort(m.peerPort)
}

// Proxy returns the proxy in front of the member's client URL, or nil when
// Options.Proxy is not set.
func (m *Member) Proxy() *Proxy { return m.proxy }

// PeerProxy returns the proxy in front of the member's peer URL, or nil in
// a cluster of one member. Its methods act on the traffic the other members
// send to this one (and on the answers); Cluster.Isolate cuts both ways.
func (m *Member) PeerProxy() *Proxy { return m.peerProxy }

// Etcd returns the running embedded server, or nil while the member is
// stopped. It gives tests access to anything this package does not wrap.
func (m *Member) Etcd() *embed.Etcd {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.run == nil {
		return nil
	}
	return m.run.Etcd()
}

// Running reports whether the member has been started and not stopped,
// killed, or brought down by an error of its own.
func (m *Member) Running() bool {
	e := m.Etcd()
	if e == nil {
		return false
	}
	select {
	case <-e.Server.StopNotify():
		return false
	default:
		return true
	}
}

// IsLeader reports whether the member is running and believes it is the
// raft leader. A leader cut off from the others keeps believing so until its
// election timeout runs out.
func (m *Member) IsLeader() bool {
	return m.Running() && m.leaderID() == m.id
}

// leaderID returns the leader the member knows of, or 0.
func (m *Member) leaderID() uint64 {
	e := m.Etcd()
	if e == nil {
		return 0
	}
	return uint64(e.Server.Leader())
}

// WaitReady waits until the running member has joined the cluster and
// serves clients.
func (m *Member) WaitReady(ctx context.Context) error {
	m.mu.Lock()
	r := m.run
	m.mu.Unlock()
	if r == nil {
		return ErrNotRunning
	}
	return waitReady(ctx, m.name, r)
}

func waitReady(ctx context.Context, name string, r *embedetcd.Server) error {
	if err := r.WaitReady(ctx); err != nil {
		return fmt.Errorf("etcdtest: member %s: %w", name, err)
	}
	return nil
}

// Stop shuts the member down gracefully: a leader hands its leadership to
// another member first. Client calls and streams on the member end at once
// (they fail with codes.Unavailable), instead of holding the shutdown for
// seconds as etcd's own Close does. Stopping a stopped member is a no-op.
func (m *Member) Stop() error { return m.stop(false) }

// Kill stops the member abruptly: no leadership transfer, client streams and
// peer connections cut at once, as when the process dies. The data directory
// is kept, so Restart brings the member back with its data.
func (m *Member) Kill() error { return m.stop(true) }

func (m *Member) stop(hard bool) error {
	m.mu.Lock()
	r := m.run
	m.run = nil
	m.mu.Unlock()
	if r == nil {
		return nil
	}
	// Stop transfers the leadership first, if this member has it; Kill
	// does not. Both end the member's client calls and streams at once,
	// and cut its peer connections once raft has stopped (AfterStop), so
	// that etcd's Close does not wait for the other members' streams.
	var err error
	if hard {
		err = r.Kill()
	} else {
		err = r.Close()
	}
	m.c.dropPeerConnsOf(m)
	if m.proxy != nil {
		m.proxy.DropConnections()
	}
	return err
}

// Restart starts a stopped member again from its data directory, with the
// same name, id, ports and URLs. It waits until the member is ready, unless
// fewer than a quorum of members would be running: then it returns once the
// member runs, and WaitReady or Cluster.Leader waits for the cluster. If the
// member's ports are taken meanwhile, Restart retries until ctx ends.
func (m *Member) Restart(ctx context.Context) error {
	if m.Etcd() != nil {
		return fmt.Errorf("etcdtest: member %s is already running", m.name)
	}
	r, err := m.start(ctx, true)
	if err != nil {
		return err
	}
	if m.c.runningCount() < m.c.quorum() {
		return nil
	}
	if err := waitReady(ctx, m.name, r); err != nil {
		return err
	}
	return nil
}

// start launches the member; with retry, a bind failure is retried until
// ctx ends.
func (m *Member) start(ctx context.Context, retry bool) (*embedetcd.Server, error) {
	for {
		r, err := m.startOnce()
		if err == nil {
			return r, nil
		}
		if !retry || !isAddrInUse(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("etcdtest: restart %s: %w (last error: %v)", m.name, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (m *Member) startOnce() (*embedetcd.Server, error) {
	cfg, err := m.config()
	if err != nil {
		return nil, err
	}
	r, err := embedetcd.Launch(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: start member %s: %w", m.name, err)
	}
	if m.id == 0 {
		m.id = uint64(r.Etcd().Server.MemberID())
	}
	m.mu.Lock()
	m.run = r
	m.mu.Unlock()
	return r, nil
}

// config is the member's configuration: the product's server with the test
// defaults of Options (fsync off, short ticks) and TCP URLs on 127.0.0.1.
func (m *Member) config() (embedetcd.Config, error) {
	c := m.c
	o := c.opts
	cfg := embedetcd.Config{
		Name:                m.name,
		DataDir:             m.dir,
		Fsync:               embedetcd.FsyncOff,
		TickMs:              o.TickMs,
		ElectionMs:          o.ElectionMs,
		Logger:              o.Logger.Named(m.name),
		InitialCluster:      c.initialCluster,
		InitialClusterToken: c.token,
		AfterStop:           func() { c.dropPeerConnsOf(m) },
	}
	if o.Fsync {
		cfg.Fsync = embedetcd.FsyncOn
	}
	scheme := c.clientScheme()
	for _, u := range []struct {
		dst *[]url.URL
		raw string
	}{
		{&cfg.ListenClientURLs, scheme + "://" + hostPort(m.clientPort)},
		{&cfg.AdvertiseClientURLs, m.ClientURL()},
		{&cfg.ListenPeerURLs, "http://" + hostPort(m.peerPort)},
		{&cfg.AdvertisePeerURLs, m.PeerURL()},
	} {
		parsed, err := url.Parse(u.raw)
		if err != nil {
			return cfg, err
		}
		*u.dst = []url.URL{*parsed}
	}
	cfg.Configure = func(ec *embed.Config) {
		if o.QuotaBackendBytes != 0 {
			ec.QuotaBackendBytes = o.QuotaBackendBytes
		}
		if o.MaxTxnOps != 0 {
			ec.MaxTxnOps = o.MaxTxnOps
		}
		if o.MaxRequestBytes != 0 {
			ec.MaxRequestBytes = o.MaxRequestBytes
		}
		if o.AuthTokenTTL != 0 {
			ec.AuthTokenTTL = o.AuthTokenTTL
		}
		if t := c.tls; t != nil {
			ec.ClientTLSInfo.CertFile = t.ServerCertFile
			ec.ClientTLSInfo.KeyFile = t.ServerKeyFile
			ec.ClientTLSInfo.TrustedCAFile = t.CAFile
			ec.ClientTLSInfo.ClientCertAuth = true
		}
		if o.Configure != nil {
			o.Configure(ec)
		}
	}
	return cfg, nil
}
