package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// Client is an etcd v3 client: one gRPC connection balanced over all
// endpoints, with the KV, Watcher, Lease, Auth, Cluster and Maintenance APIs
// embedded as in the official clientv3.Client. It is safe for concurrent use.
type Client struct {
	Cluster
	KV
	Lease
	Watcher
	Auth
	Maintenance

	// Username and Password are the credentials the client logs in with.
	Username string
	Password string
	// Token is the fixed auth token of Config.Token, if any.
	Token string

	cfg      Config
	conn     *grpc.ClientConn
	resolver *manual.Resolver
	ctx      context.Context
	cancel   context.CancelFunc
	lg       *zap.Logger

	epMu      sync.RWMutex
	endpoints []endpoint

	lastConnErr atomic.Pointer[connFailure]
	rangeStream rangeStreamMemo
	health      *healthTracker
	auth        tokenSource

	closeOnce sync.Once
	bg        sync.WaitGroup // background goroutines, waited for by Close
}

// New creates a client for cfg. With cfg.DialTimeout it waits that long for a
// connection (and login), otherwise it returns at once and connects in the
// background.
func New(cfg Config) (*Client, error) {
	eps, err := parseEndpoints(cfg.Endpoints, cfg.TLS != nil)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, ErrMutuallyExclusiveCfg
	}
	parent := cfg.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	c := &Client{
		Username:  cfg.Username,
		Password:  cfg.Password,
		Token:     cfg.Token,
		cfg:       cfg,
		ctx:       ctx,
		cancel:    cancel,
		lg:        cfg.Logger,
		endpoints: eps,
	}
	if c.lg == nil && cfg.LogConfig != nil {
		if c.lg, err = cfg.LogConfig.Build(); err != nil {
			cancel()
			return nil, fmt.Errorf("etcdclient: Config.LogConfig: %w", err)
		}
	}
	if c.lg == nil {
		c.lg = zap.NewNop()
	}
	c.auth.init(c)
	c.health = newHealthTracker(ctx, c.lg)
	if err := c.connect(eps); err != nil {
		cancel()
		return nil, err
	}
	c.KV = &kv{c: c}
	c.Watcher = newWatcher(c)
	c.Lease = newLease(c)
	c.Auth = newAuth(c)
	c.Cluster = newCluster(c)
	c.Maintenance = newMaintenance(c)

	if cfg.DialTimeout > 0 {
		dctx, dcancel := context.WithTimeout(ctx, cfg.DialTimeout)
		err := c.waitReady(dctx)
		if err == nil && c.auth.enabled() {
			_, err = c.auth.get(dctx, "")
		}
		if err == nil && cfg.RejectOldCluster {
			err = c.checkVersion(dctx)
		}
		dcancel()
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	if cfg.AutoSyncInterval > 0 {
		c.bg.Add(1)
		go c.autoSync(cfg.AutoSyncInterval)
	}
	return c, nil
}

// NewFromURL creates a client for one endpoint.
func NewFromURL(url string) (*Client, error) { return New(Config{Endpoints: []string{url}}) }

// NewFromURLs creates a client for the given endpoints.
func NewFromURLs(urls []string) (*Client, error) { return New(Config{Endpoints: urls}) }

func (c *Client) connect(eps []endpoint) error {
	c.resolver = manual.NewBuilderWithScheme("etcdscript")
	c.resolver.InitialState(resolver.State{Addresses: c.balancedAddresses(eps)})
	opts := append([]grpc.DialOption{
		grpc.WithResolvers(c.resolver),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"` + balancerName + `":{}}]}`),
	}, c.dialOptions(c.cfg.TLS != nil || anySecure(eps))...)
	conn, err := grpc.NewClient("etcdscript:///"+eps[0].host, opts...)
	if err != nil {
		return fmt.Errorf("etcdclient: %w", err)
	}
	c.conn = conn
	c.health.conn = conn
	conn.Connect()
	return nil
}

// dialOptions are the options of every connection the client opens (the
// balanced one and the per-endpoint ones of endpoint_conn.go): dialer,
// message sizes, backoff, keepalive, credentials, then Config.DialOptions.
func (c *Client) dialOptions(secure bool) []grpc.DialOption {
	keepTime, keepTimeout := c.cfg.DialKeepAliveTime, c.cfg.DialKeepAliveTimeout
	if keepTime == 0 {
		keepTime = defaultKeepAliveTime
	}
	if keepTimeout <= 0 {
		keepTimeout = defaultKeepAliveTimeout
	}
	sendMax, recvMax := c.cfg.MaxCallSendMsgSize, c.cfg.MaxCallRecvMsgSize
	if sendMax <= 0 {
		sendMax = defaultMaxSendMsgSize
	}
	if recvMax <= 0 {
		recvMax = defaultMaxRecvMsgSize
	}
	minConnect := c.cfg.DialTimeout
	if minConnect <= 0 || minConnect > 5*time.Second {
		minConnect = 5 * time.Second
	}
	opts := []grpc.DialOption{
		grpc.WithContextDialer(c.dial),
		grpc.WithDefaultCallOptions(
			grpc.WaitForReady(true),
			grpc.MaxCallSendMsgSize(sendMax),
			grpc.MaxCallRecvMsgSize(recvMax),
		),
		// gRPC's default reconnect backoff grows to two minutes; a member
		// that restarts must be used again within seconds.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: minConnect,
		}),
	}
	if keepTime > 0 {
		opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: keepTime, Timeout: keepTimeout, PermitWithoutStream: c.cfg.PermitWithoutStream,
		}))
	}
	if secure {
		opts = append(opts, grpc.WithTransportCredentials(newEndpointCreds(c.cfg.TLS, c.noteConnFailure)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	return append(opts, c.cfg.DialOptions...)
}

func anySecure(eps []endpoint) bool {
	for _, ep := range eps {
		if ep.secure {
			return true
		}
	}
	return false
}

func toAddresses(eps []endpoint) []resolver.Address {
	addrs := make([]resolver.Address, len(eps))
	for i, ep := range eps {
		addrs[i] = toAddress(ep)
	}
	return addrs
}

// balancedAddresses are the addresses of the balanced connection, tied to
// the client's health tracker.
func (c *Client) balancedAddresses(eps []endpoint) []resolver.Address {
	addrs := toAddresses(eps)
	names := make([]string, len(addrs))
	for i, a := range addrs {
		names[i] = a.Addr
	}
	c.health.setAddrs(names)
	return withTracker(addrs, c.health)
}

// waitReady blocks until the connection is ready or ctx ends.
func (c *Client) waitReady(ctx context.Context) error {
	for {
		s := c.conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if s == connectivity.Shutdown {
			return ErrClientClosed
		}
		if !c.conn.WaitForStateChange(ctx, s) {
			if ce := c.connectError(ctx.Err()); ce != nil {
				return ce
			}
			return ctx.Err()
		}
	}
}

// Close stops the client: every call and stream in flight ends with
// ErrClientClosed or context.Canceled, and background goroutines exit before
// Close returns.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.cancel()
		for _, closer := range c.closers() {
			if cerr := closer(); cerr != nil && err == nil {
				err = cerr
			}
		}
		c.bg.Wait()
		c.health.close()
		if cerr := c.conn.Close(); cerr != nil && err == nil && !errors.Is(cerr, context.Canceled) {
			err = cerr
		}
	})
	return err
}

// closers lists the Close methods of the embedded APIs that own goroutines.
func (c *Client) closers() []func() error {
	var out []func() error
	for _, v := range []any{c.Watcher, c.Lease, c.Maintenance} {
		if cl, ok := v.(interface{ Close() error }); ok {
			out = append(out, cl.Close)
		}
	}
	return out
}

// Ctx is the client's context: it ends when the client is closed.
func (c *Client) Ctx() context.Context { return c.ctx }

// Endpoints returns the endpoints in use, as given.
func (c *Client) Endpoints() []string {
	c.epMu.RLock()
	defer c.epMu.RUnlock()
	out := make([]string, len(c.endpoints))
	for i, ep := range c.endpoints {
		out[i] = ep.raw
	}
	return out
}

// SetEndpoints replaces the endpoints. Connections to endpoints no longer
// listed are closed once calls on them finish; an invalid endpoint is
// ignored with a log line (use SetEndpointsErr to see the error).
func (c *Client) SetEndpoints(eps ...string) {
	if err := c.SetEndpointsErr(eps...); err != nil {
		c.lg.Warn("etcdclient: SetEndpoints ignored", zap.Error(err))
	}
}

// SetEndpointsErr is SetEndpoints that reports an invalid or empty list.
func (c *Client) SetEndpointsErr(eps ...string) error {
	parsed, err := parseEndpoints(eps, c.cfg.TLS != nil)
	if err != nil {
		return err
	}
	c.epMu.Lock()
	changed := !slices.Equal(c.endpoints, parsed)
	c.endpoints = parsed
	c.epMu.Unlock()
	if changed {
		// Other members may run another etcd version.
		c.rangeStream.reset()
	}
	c.resolver.UpdateState(resolver.State{Addresses: c.balancedAddresses(parsed)})
	return nil
}

// Sync replaces the endpoints with the client URLs of the cluster's started
// members.
func (c *Client) Sync(ctx context.Context) error {
	if ctx == nil {
		return invalidArg("Sync: nil context")
	}
	resp := new(pb.MemberListResponse)
	if err := c.invoke(ctx, methodMemberList, &pb.MemberListRequest{Linearizable: true}, resp, true); err != nil {
		return err
	}
	var eps []string
	for _, m := range resp.Members {
		if m.IsLearner {
			continue
		}
		eps = append(eps, m.ClientURLs...)
	}
	if len(eps) == 0 {
		return errors.New("etcdclient: Sync: no member has client URLs")
	}
	return c.SetEndpointsErr(eps...)
}

func (c *Client) autoSync(every time.Duration) {
	defer c.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
			if err := c.Sync(ctx); err != nil && c.ctx.Err() == nil {
				c.lg.Info("etcdclient: auto sync failed", zap.Error(err))
			}
			cancel()
		}
	}
}

// checkVersion refuses servers older than 3.2 when RejectOldCluster is set.
func (c *Client) checkVersion(ctx context.Context) error {
	for _, ep := range c.Endpoints() {
		resp := new(pb.StatusResponse)
		if err := c.invoke(ctx, methodStatus, &pb.StatusRequest{}, resp, true); err != nil {
			return err
		}
		var major, minor int
		if _, err := fmt.Sscanf(resp.Version, "%d.%d", &major, &minor); err != nil {
			return fmt.Errorf("etcdclient: endpoint %s reports version %q: %w", ep, resp.Version, err)
		}
		if major < 3 || major == 3 && minor < 2 {
			return fmt.Errorf("%w: %s runs %s", ErrOldCluster, ep, resp.Version)
		}
	}
	return nil
}

// ActiveConnection returns the client's gRPC connection, for calling
// services this package does not wrap.
func (c *Client) ActiveConnection() *grpc.ClientConn { return c.conn }

// GetLogger returns the client's logger.
func (c *Client) GetLogger() *zap.Logger { return c.lg }

// String names the client by its endpoints, for logs.
func (c *Client) String() string { return "etcd client " + strings.Join(c.Endpoints(), ",") }
