package etcdtest

import (
	"fmt"
	"os"
	"strings"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/etcdscript/etcdscript/embedetcd"
)

// Default raft timing, the product server's (package embedetcd): elections
// and failover are fast, and stay stable on a busy two-core machine.
const (
	DefaultTickMs     = embedetcd.DefaultTickMs
	DefaultElectionMs = embedetcd.DefaultElectionMs
)

// LogEnv is the environment variable that turns etcd's logs on when
// Options.Logger is nil. "1" or "error" logs errors, "warn", "info" and
// "debug" log from that level up; the logs go to stderr. Empty or "0" keeps
// etcd silent.
const LogEnv = "ETCDTEST_LOG"

// Options configures a cluster. The zero value starts one member with the
// defaults below.
type Options struct {
	// Size is the number of members. Zero means 1.
	Size int

	// DataDir is the directory under which each member keeps its data (in
	// a subdirectory named after the member) and the certificates live.
	// Empty means a new temporary directory, removed by Close. A directory
	// given here is kept. A one-member cluster can start again on the
	// directory of an earlier one and finds its data; members of a larger
	// cluster would look for each other at their old addresses, which the
	// new cluster does not reuse.
	DataDir string

	// ClientTLS serves clients over TLS with a server certificate for
	// 127.0.0.1 and localhost, signed by a CA made for the cluster, and
	// requires clients to present a certificate signed by that CA.
	// Cluster.TLS and Cluster.ClientTLSConfig describe the certificates.
	ClientTLS bool

	// AuthTokenTTL is the lifetime in seconds of the simple tokens etcd
	// hands out once authentication is enabled. Zero means etcd's default
	// (300 s).
	AuthTokenTTL uint

	// Proxy puts a Proxy in front of each member's client URL. Endpoints,
	// Member.Endpoint and the client URLs that MemberList advertises are
	// then the proxies' addresses. (Peer URLs of a cluster of several
	// members always have a proxy in front, see Member.PeerProxy.)
	Proxy bool

	// Logger receives etcd's logs. Nil means silent, unless the LogEnv
	// environment variable asks for logs on stderr.
	Logger *zap.Logger

	// QuotaBackendBytes is the backend size quota; zero means etcd's
	// default (2 GiB).
	QuotaBackendBytes int64

	// MaxTxnOps is the maximum number of operations in one transaction;
	// zero means etcd's default (128).
	MaxTxnOps uint

	// MaxRequestBytes is the maximum size of a client request; zero means
	// etcd's default (1.5 MiB).
	MaxRequestBytes uint

	// TickMs and ElectionMs are the raft heartbeat interval and election
	// timeout in milliseconds. Zero means DefaultTickMs and
	// DefaultElectionMs. ElectionMs must be at least 5 times TickMs.
	TickMs     uint
	ElectionMs uint

	// Fsync makes etcd sync its write-ahead log and backend to disk, as a
	// production server does. By default it does not, even in a DataDir
	// given here (unlike the product's server, embedetcd, which syncs a
	// kept directory): much faster, and nothing is lost unless the machine
	// crashes.
	Fsync bool

	// Configure, when set, is called with each member's configuration
	// right before the member starts (also on Restart), to set anything
	// the fields above do not cover. It must not change names, URLs or
	// directories.
	Configure func(*embed.Config)
}

func (o Options) withDefaults() (Options, error) {
	if o.Size == 0 {
		o.Size = 1
	}
	if o.Size < 0 {
		return o, fmt.Errorf("etcdtest: invalid cluster size %d", o.Size)
	}
	if o.TickMs == 0 {
		o.TickMs = DefaultTickMs
	}
	if o.ElectionMs == 0 {
		o.ElectionMs = DefaultElectionMs
		if o.ElectionMs < 5*o.TickMs {
			o.ElectionMs = 10 * o.TickMs
		}
	}
	if o.Logger == nil {
		o.Logger = envLogger()
	}
	return o, nil
}

// envLogger builds the logger LogEnv asks for.
func envLogger() *zap.Logger {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(LogEnv)))
	var lvl zapcore.Level
	switch v {
	case "", "0", "false", "off", "no":
		return zap.NewNop()
	case "debug":
		lvl = zapcore.DebugLevel
	case "info":
		lvl = zapcore.InfoLevel
	case "warn", "warning":
		lvl = zapcore.WarnLevel
	default:
		lvl = zapcore.ErrorLevel
	}
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), lvl)
	return zap.New(core)
}
