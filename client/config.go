package client

import (
	"context"
	"crypto/tls"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Config is what New needs to build a Client. Its fields are those of the
// official clientv3.Config that make sense for this client; the zero value of
// every field but Endpoints is usable.
type Config struct {
	// Endpoints lists the members to use: host:port, http://host:port,
	// https://host:port, unix://path or unixs://path. A bare host:port uses
	// TLS when TLS is set; http:// never does and https:// always does.
	Endpoints []string `json:"endpoints"`

	// AutoSyncInterval, when positive, refreshes Endpoints from the
	// cluster's member list at that interval (see Client.Sync).
	AutoSyncInterval time.Duration `json:"auto-sync-interval"`

	// DialTimeout, when positive, makes New wait up to that long for a
	// connection to some endpoint (and for the login, with Username), and
	// fail with a ConnectError naming the last connection error otherwise.
	// With no DialTimeout, New returns at once and each call waits for a
	// connection until its own context ends.
	DialTimeout time.Duration `json:"dial-timeout"`

	// DialKeepAliveTime is the interval of HTTP/2 pings that detect a dead
	// or hung endpoint. Unlike clientv3 it is on by default: 0 means 10 s,
	// a negative value turns pings off. gRPC raises values below 10 s to 10 s.
	DialKeepAliveTime time.Duration `json:"dial-keep-alive-time"`

	// DialKeepAliveTimeout is how long a ping may go unanswered before the
	// connection is closed; 0 means 10 s.
	DialKeepAliveTimeout time.Duration `json:"dial-keep-alive-timeout"`

	// PermitWithoutStream sends keepalive pings even with no active call.
	// etcd refuses too frequent pings from idle clients, so it is off by
	// default.
	PermitWithoutStream bool `json:"permit-without-stream"`

	// MaxCallSendMsgSize bounds a request's size on the client; 0 means
	// 2 MiB. Servers refuse requests above their own --max-request-bytes
	// (1.5 MiB by default) anyway.
	MaxCallSendMsgSize int

	// MaxCallRecvMsgSize bounds a response's size; 0 means math.MaxInt32.
	MaxCallRecvMsgSize int

	// TLS, when set, is the client's TLS configuration (CA, client
	// certificate, server name).
	TLS *tls.Config

	// Username and Password, when Username is set, log the client in: the
	// token is sent on every call and stream, and renewed once when the
	// server says it is invalid or expired.
	Username string `json:"username"`
	Password string `json:"password"`

	// Token, when set, is an auth token (a JWT issued for this cluster)
	// sent on every call and stream instead of logging in. It is never
	// renewed: once it expires, calls fail with rpctypes.ErrInvalidAuthToken.
	// New refuses a Token together with a Username or Password
	// (ErrMutuallyExclusiveCfg).
	Token string `json:"token"`

	// MaxUnaryRetries, when positive, bounds how many times a unary call
	// (not a stream) is sent, the first time included, under the retry
	// policy of the package documentation; 0 means until the call's
	// context ends.
	MaxUnaryRetries uint `json:"max-unary-retries"`

	// BackoffWaitBetween, when positive, is the wait before repeating a
	// unary call, spread by BackoffJitterFraction (0 means 0.1) either way.
	// 0 means the package's backoff: about 10 ms doubling to 500 ms.
	BackoffWaitBetween time.Duration `json:"backoff-wait-between"`

	// BackoffJitterFraction is the fraction of BackoffWaitBetween by which
	// a wait is made shorter or longer at random.
	BackoffJitterFraction float64 `json:"backoff-jitter-fraction"`

	// RejectOldCluster makes New refuse a cluster older than etcd 3.2.
	RejectOldCluster bool `json:"reject-old-cluster"`

	// DialOptions are added to the gRPC dial, after this package's own
	// options: interceptors (metrics, tracing), a custom dialer.
	DialOptions []grpc.DialOption

	// Context is the parent of every call's context and of the client's
	// background work; cancelling it is like calling Close.
	Context context.Context

	// Logger receives the client's logs; nil means no logs, unless
	// LogConfig is set.
	Logger *zap.Logger

	// LogConfig, when set and Logger is nil, is built into the client's
	// logger; New fails if it cannot be.
	LogConfig *zap.Config
}

const (
	defaultKeepAliveTime    = 10 * time.Second
	defaultKeepAliveTimeout = 10 * time.Second
	defaultMaxSendMsgSize   = 2 * 1024 * 1024
	defaultMaxRecvMsgSize   = 1<<31 - 1

	defaultBackoffJitterFraction = 0.1
)
