package etcdtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/etcdscript/etcdscript/embedetcd"
)

// TB is the part of testing.TB that StartT and WaitLeader use. *testing.T,
// *testing.B and testing.TB satisfy it.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// reservePortsFn is reservePorts; tests replace it to simulate a port taken
// between its choice and etcd's bind.
var reservePortsFn = reservePorts

// startAttempts is how many times Start tries, with new ports each time,
// when a port it picked was taken by someone else before etcd could bind it.
const startAttempts = 5

// StartTimeout bounds StartT and WaitLeader.
const StartTimeout = 60 * time.Second

// ErrSingleMember is returned by Isolate on a cluster of one member.
var ErrSingleMember = errors.New("etcdtest: cannot isolate the only member of a cluster")

// Cluster is a set of etcd members running in this process.
type Cluster struct {
	opts           Options
	root           string
	ownsRoot       bool
	tls            *TLSFiles
	clientTLS      *tls.Config
	token          string
	initialCluster string
	members        []*Member

	mu       sync.Mutex
	closed   bool
	isolated map[uint64]bool
}

// Start starts a cluster and waits until every member is ready and the
// members agree on a leader. On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	root, owns := opts.DataDir, false
	if root == "" {
		if root, err = os.MkdirTemp("", "etcdtest-"); err != nil {
			return nil, err
		}
		owns = true
	} else if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	fail := func(err error) (*Cluster, error) {
		if owns {
			os.RemoveAll(root)
		}
		return nil, err
	}
	var files *TLSFiles
	var clientTLS *tls.Config
	if opts.ClientTLS {
		if files, err = generateCerts(filepath.Join(root, "certs")); err != nil {
			return fail(fmt.Errorf("etcdtest: certificates: %w", err))
		}
		if clientTLS, err = files.ClientConfig(); err != nil {
			return fail(err)
		}
	}
	for attempt := 1; ; attempt++ {
		c := &Cluster{
			opts:      opts,
			root:      root,
			ownsRoot:  owns,
			tls:       files,
			clientTLS: clientTLS,
			isolated:  map[uint64]bool{},
		}
		err := c.start(ctx)
		if err == nil {
			return c, nil
		}
		if !isAddrInUse(err) || attempt >= startAttempts || ctx.Err() != nil {
			return fail(err)
		}
	}
}

// StartT starts a cluster for a test, registers its Close with t.Cleanup and
// fails the test if the cluster cannot start within StartTimeout.
func StartT(t TB, opts Options) *Cluster {
	t.Helper()
	return startT(t, "cluster", func(ctx context.Context) (*Cluster, error) { return Start(ctx, opts) })
}

// start makes one attempt at starting the cluster. On error it undoes
// everything it did.
func (c *Cluster) start(ctx context.Context) (err error) {
	n := c.opts.Size
	ps, err := reservePortsFn(2 * n)
	if err != nil {
		return err
	}
	var fresh []string // member directories this attempt creates
	defer func() {
		if err != nil {
			c.shutdown()
			for _, d := range fresh {
				os.RemoveAll(d)
			}
		}
	}()
	tok := make([]byte, 8)
	rand.Read(tok)
	c.token = "etcdtest-" + hex.EncodeToString(tok)
	var ic []string
	for i := 0; i < n; i++ {
		m := &Member{
			c:          c,
			name:       fmt.Sprintf("m%d", i),
			clientPort: ps[2*i],
			peerPort:   ps[2*i+1],
		}
		m.dir = filepath.Join(c.root, m.name)
		if _, serr := os.Stat(m.dir); os.IsNotExist(serr) {
			fresh = append(fresh, m.dir)
		}
		c.members = append(c.members, m)
		if c.opts.Proxy {
			if m.proxy, err = NewProxy(hostPort(m.clientPort)); err != nil {
				return err
			}
		}
		if n > 1 {
			if m.peerProxy, err = newProxy(hostPort(m.peerPort), true); err != nil {
				return err
			}
		}
		ic = append(ic, m.name+"="+m.PeerURL())
	}
	c.initialCluster = strings.Join(ic, ",")

	runs := make([]*embedetcd.Server, n)
	for i, m := range c.members {
		if runs[i], err = m.start(ctx, false); err != nil {
			return err
		}
	}
	for i, m := range c.members {
		if err = waitReady(ctx, m.name, runs[i]); err != nil {
			return err
		}
	}
	_, err = c.Leader(ctx)
	return err
}

// shutdown kills every member, closes the proxies and releases the ports.
func (c *Cluster) shutdown() error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.members))
	for i, m := range c.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.Kill()
		}()
	}
	wg.Wait()
	for _, m := range c.members {
		if m.proxy != nil {
			errs = append(errs, m.proxy.Close())
		}
		if m.peerProxy != nil {
			errs = append(errs, m.peerProxy.Close())
		}
		releasePorts(m.clientPort, m.peerPort)
	}
	return errors.Join(errs...)
}

// Close stops every member, closes the proxies and, unless Options.DataDir
// was given, removes the data directory. Close is idempotent.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.shutdown()
	if c.ownsRoot {
		if rerr := os.RemoveAll(c.root); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// Members returns the members, in the order of their names (m0, m1, ...).
func (c *Cluster) Members() []*Member {
	return append([]*Member(nil), c.members...)
}

// Member returns the i-th member.
func (c *Cluster) Member(i int) *Member { return c.members[i] }

// Endpoints returns the host:port of every member's client URL (the proxies'
// when Options.Proxy is set), stopped members included.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.Endpoint()
	}
	return out
}

// ClientURLs returns Endpoints with their scheme.
func (c *Cluster) ClientURLs() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.ClientURL()
	}
	return out
}

// Dir returns the directory that holds the members' data directories.
func (c *Cluster) Dir() string { return c.root }

// TLS returns the cluster's certificates, or nil without Options.ClientTLS.
func (c *Cluster) TLS() *TLSFiles { return c.tls }

// ClientTLSConfig returns a new TLS configuration for clients of a ClientTLS
// cluster: it trusts the cluster's CA and presents the client certificate.
// It returns nil without Options.ClientTLS.
func (c *Cluster) ClientTLSConfig() *tls.Config {
	if c.clientTLS == nil {
		return nil
	}
	return c.clientTLS.Clone()
}

func (c *Cluster) clientScheme() string {
	if c.opts.ClientTLS {
		return "https"
	}
	return "http"
}

func (c *Cluster) quorum() int { return len(c.members)/2 + 1 }

func (c *Cluster) runningCount() int {
	n := 0
	for _, m := range c.members {
		if m.Running() {
			n++
		}
	}
	return n
}

// Leader waits until a running member is leader and a quorum of members
// follow it, and returns it. Members cut off by Isolate do not count. It
// fails when ctx ends first, for instance when a quorum is down.
func (c *Cluster) Leader(ctx context.Context) (*Member, error) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if l := c.currentLeader(); l != nil {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("etcdtest: no leader: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// WaitLeader is Leader for tests: it waits up to StartTimeout and fails the
// test when no leader shows up.
func (c *Cluster) WaitLeader(t TB) *Member {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	l, err := c.Leader(ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return l
}

func (c *Cluster) currentLeader() *Member {
	votes := map[uint64]int{}
	for _, m := range c.members {
		if !m.Running() {
			continue
		}
		if id := m.leaderID(); id != 0 {
			votes[id]++
		}
	}
	for _, m := range c.members {
		if votes[m.id] >= c.quorum() && m.IsLeader() {
			return m
		}
	}
	return nil
}

// Isolate cuts all peer traffic to and from m, as a network partition that
// leaves m alone would: raft messages, snapshots and the other requests
// members send each other stop in both directions, so m loses its leadership
// (if it had it) and cannot serve linearizable requests, while a quorum of
// the others goes on. m keeps serving its clients. Several members can be
// isolated at once; each is then alone.
//
// A few requests etcd sends without naming their sender (health probes, and
// requests on a connection whose first request came from such a probe) can
// still pass from m to the others until they name their sender; raft traffic
// never does.
func (c *Cluster) Isolate(m *Member) error {
	if len(c.members) < 2 {
		return ErrSingleMember
	}
	c.mu.Lock()
	c.isolated[m.id] = true
	c.mu.Unlock()
	c.applyIsolation()
	return nil
}

// Heal undoes every Isolate: peer traffic flows again between all members.
func (c *Cluster) Heal() {
	c.mu.Lock()
	c.isolated = map[uint64]bool{}
	c.mu.Unlock()
	c.applyIsolation()
}

func (c *Cluster) applyIsolation() {
	c.mu.Lock()
	ids := make(map[uint64]bool, len(c.isolated))
	for id := range c.isolated {
		ids[id] = true
	}
	c.mu.Unlock()
	for _, m := range c.members {
		if m.peerProxy != nil {
			m.peerProxy.setRefuse(ids[m.id])
			m.peerProxy.setDeny(ids)
		}
	}
}

// dropPeerConnsOf closes the peer connections a stopped member leaves open:
// those into its own peer proxy, and at the other members' proxies those it
// opened or whose sender is unknown (etcd does not close the idle
// connections of some of its HTTP clients when it stops).
func (c *Cluster) dropPeerConnsOf(m *Member) {
	if m.peerProxy == nil {
		return
	}
	m.peerProxy.DropConnections()
	for _, o := range c.members {
		if o != m {
			o.peerProxy.cutIf(func(pc *proxyConn) bool {
				id := pc.owner.Load()
				return id == 0 || id == m.id
			})
		}
	}
}
