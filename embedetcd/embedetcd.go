package embedetcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// ErrDataDirInUse is wrapped by the error of Start and Launch when another
// server holds the data directory.
var ErrDataDirInUse = errors.New("data directory in use")

// ErrStopped is wrapped by the error of WaitReady when the server stopped
// before it was ready.
var ErrStopped = errors.New("server stopped")

// DefaultName is the member's name when Config.Name is empty; etcd's own
// default, so a kept data directory also opens with a plain `etcd
// --data-dir`.
const DefaultName = "default"

// Default raft timing. A member alone cannot lose an election, so a short
// heartbeat costs nothing in stability and makes the member its own leader
// within a few ticks of starting (~0.1 s, against ~0.4-1 s with etcd's
// 100 ms / 1 s). The same values keep the test clusters of tests/etcdtest
// fast; they were checked to stay stable there (no spurious election in
// 10 s of writes from 16 goroutines, three members on a busy two-core
// machine with the race detector on).
const (
	DefaultTickMs     = 10
	DefaultElectionMs = 100
)

// Socket names inside the private directory.
const (
	clientSocket = "client.sock"
	peerSocket   = "peer.sock"
)

// maxSocketPath is the longest path a unix socket can have (sun_path holds
// 108 bytes with the terminating NUL on Linux, 104 on the BSDs).
const maxSocketPath = 103

// lockFile is the name of the lock file in the data directory.
const lockFile = "etcdscript.lock"

func lockPath(dir string) string { return filepath.Join(dir, lockFile) }

// privPrefix starts the name of every private directory Launch makes.
const privPrefix = "etcdscript-etcd-"

// Fsync says whether etcd syncs its data to disk.
type Fsync int

const (
	// FsyncAuto syncs a kept data directory (Config.DataDir set) and not
	// a throwaway one.
	FsyncAuto Fsync = iota
	// FsyncOn always syncs, as a production etcd does.
	FsyncOn
	// FsyncOff never syncs (etcd's --unsafe-no-fsync): much faster, and
	// nothing is lost unless the machine itself crashes. For tests.
	FsyncOff
)

// Config configures a server. The zero value is a member alone, with data
// in a temporary directory, reachable through a private unix socket.
type Config struct {
	// DataDir is etcd's data directory (etcd's own layout: DataDir/member),
	// created with mode 0700 if missing and kept after Close. Empty means
	// a new temporary directory, removed by Close.
	DataDir string

	// Name is the member's name; empty means DefaultName.
	Name string

	// Fsync chooses whether data is synced to disk; the zero value,
	// FsyncAuto, syncs a kept DataDir only.
	Fsync Fsync

	// TickMs and ElectionMs are the raft heartbeat interval and election
	// timeout in milliseconds; zero means DefaultTickMs and
	// DefaultElectionMs. ElectionMs must be at least 5 times TickMs.
	TickMs, ElectionMs uint

	// Logger receives etcd's logs; nil means none.
	Logger *zap.Logger

	// ListenClientURLs are the URLs the member serves clients on, and
	// AdvertiseClientURLs those it tells clients (default: the listen
	// URLs). Both empty means a unix socket in a new private directory.
	ListenClientURLs, AdvertiseClientURLs []url.URL

	// ListenPeerURLs and AdvertisePeerURLs are the member's peer URLs.
	// They are used only with ListenClientURLs set; otherwise the member
	// has no peer listener (see the package documentation).
	ListenPeerURLs, AdvertisePeerURLs []url.URL

	// InitialCluster lists the members of a new cluster as
	// name=peerURL,...; empty means this member alone.
	// InitialClusterToken tells clusters apart; empty means etcd's
	// default.
	InitialCluster, InitialClusterToken string

	// AfterStop, if set, is called by Close and Kill once raft has
	// stopped and before etcd's listeners are closed; a cluster uses it to
	// cut peer connections that would hold etcd's Close for seconds.
	AfterStop func()

	// Configure, if set, is called with etcd's configuration right before
	// the member starts, to set what the fields above do not cover. It must
	// not change the directory, the URLs or ServiceRegister.
	Configure func(*embed.Config)
}

// Server is an etcd member running in this process.
type Server struct {
	cfg       Config
	e         *embed.Etcd
	dataDir   string
	privDir   string   // the private directory Launch made, or ""
	privLock  *os.File // held while privDir is in use (sweep_flock.go)
	lock      *os.File
	endpoints []string

	mu      sync.Mutex
	grpcs   []*grpc.Server
	stopped bool

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server and waits until it serves clients or ctx ends. On
// error nothing is left running, the data directory is released, and the
// private and temporary directories are removed.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := Launch(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.WaitReady(ctx); err != nil {
		s.Kill()
		return nil, err
	}
	return s, nil
}

// Launch starts a server without waiting until it is ready, as the members
// of a new cluster must be started: none is ready before a quorum runs.
func Launch(cfg Config) (_ *Server, err error) {
	s := &Server{cfg: cfg}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if cfg.DataDir == "" || len(cfg.ListenClientURLs) == 0 {
		if s.privDir, err = makePrivateDir(); err != nil {
			return nil, err
		}
		if s.privLock, err = lockDir(s.privDir); err != nil {
			return nil, err
		}
	}
	s.dataDir = filepath.Join(s.privDir, "data")
	if cfg.DataDir != "" {
		if s.dataDir, err = filepath.Abs(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("embedetcd: data directory %s: %w", cfg.DataDir, err)
		}
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedetcd: data directory %s: %w", s.dataDir, err)
	}
	if s.lock, err = lockDir(s.dataDir); err != nil {
		return nil, err
	}
	ec, err := s.etcdConfig()
	if err != nil {
		return nil, err
	}
	if s.e, err = embed.StartEtcd(ec); err != nil {
		return nil, fmt.Errorf("embedetcd: starting etcd in %s: %w", s.dataDir, err)
	}
	for _, u := range ec.AdvertiseClientUrls {
		s.endpoints = append(s.endpoints, u.String())
	}
	return s, nil
}

// makePrivateDir makes the private directory (mode 0700) of the socket and
// of a throwaway data directory: under the temporary directory, unless the
// socket's path would be too long there.
// sweepOnce sweeps the stale private directories of dead servers once per
// process, before the first is made.
var sweepOnce sync.Once

func makePrivateDir() (string, error) {
	sweepOnce.Do(func() {
		for _, parent := range tempParents() {
			sweepStale(parent, time.Now())
		}
	})
	dir, err := os.MkdirTemp("", privPrefix)
	if err != nil {
		return "", fmt.Errorf("embedetcd: socket directory: %w", err)
	}
	if len(filepath.Join(dir, clientSocket)) <= maxSocketPath {
		return dir, nil
	}
	os.Remove(dir)
	if dir, err = os.MkdirTemp("/tmp", privPrefix); err != nil {
		return "", fmt.Errorf("embedetcd: socket directory: %w", err)
	}
	if p := filepath.Join(dir, clientSocket); len(p) > maxSocketPath {
		os.Remove(dir)
		return "", fmt.Errorf("embedetcd: socket path %s is longer than %d bytes", p, maxSocketPath)
	}
	return dir, nil
}

func (s *Server) etcdConfig() (*embed.Config, error) {
	c := s.cfg
	ec := embed.NewConfig()
	ec.Name = c.Name
	if ec.Name == "" {
		ec.Name = DefaultName
	}
	ec.Dir = s.dataDir
	ec.TickMs, ec.ElectionMs = c.TickMs, c.ElectionMs
	if ec.TickMs == 0 {
		ec.TickMs = DefaultTickMs
	}
	if ec.ElectionMs == 0 {
		ec.ElectionMs = max(DefaultElectionMs, 10*ec.TickMs)
	}
	ec.UnsafeNoFsync = c.Fsync == FsyncOff || (c.Fsync == FsyncAuto && c.DataDir == "")
	lg := c.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	ec.Logger = "zap"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	ec.ServiceRegister = s.register

	if len(c.ListenClientURLs) == 0 {
		sock := url.URL{Scheme: "unix", Path: filepath.Join(s.privDir, clientSocket)}
		ec.ListenClientUrls = []url.URL{sock}
		ec.AdvertiseClientUrls = []url.URL{sock}
		// No peer listener: see the package documentation.
		ec.ListenPeerUrls = nil
		ec.AdvertisePeerUrls = []url.URL{{Scheme: "unix", Path: filepath.Join(s.privDir, peerSocket)}}
	} else {
		ec.ListenClientUrls = c.ListenClientURLs
		ec.AdvertiseClientUrls = c.AdvertiseClientURLs
		if len(ec.AdvertiseClientUrls) == 0 {
			ec.AdvertiseClientUrls = c.ListenClientURLs
		}
		if len(c.ListenPeerURLs) == 0 {
			return nil, errors.New("embedetcd: ListenClientURLs without ListenPeerURLs")
		}
		ec.ListenPeerUrls = c.ListenPeerURLs
		ec.AdvertisePeerUrls = c.AdvertisePeerURLs
		if len(ec.AdvertisePeerUrls) == 0 {
			ec.AdvertisePeerUrls = c.ListenPeerURLs
		}
	}
	ec.InitialCluster = c.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	}
	if c.InitialClusterToken != "" {
		ec.InitialClusterToken = c.InitialClusterToken
	}
	ec.ClusterState = embed.ClusterStateFlagNew
	if c.Configure != nil {
		c.Configure(ec)
	}
	return ec, nil
}

// register records a client gRPC server, so that stopping can end its
// calls and streams at once: etcd's Close otherwise waits for them, up to
// seconds, while a client keeps a watch open.
func (s *Server) register(gs *grpc.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		gs.Stop()
		return
	}
	s.grpcs = append(s.grpcs, gs)
}

func (s *Server) cutClients() {
	s.mu.Lock()
	s.stopped = true
	gs := s.grpcs
	s.grpcs = nil
	s.mu.Unlock()
	for _, g := range gs {
		g.Stop()
	}
}

// WaitReady waits until the member has joined its cluster and serves
// clients. It fails when the member stops first or ctx ends.
func (s *Server) WaitReady(ctx context.Context) error {
	select {
	case <-s.e.Server.ReadyNotify():
		return nil
	case err, ok := <-s.e.Err():
		if !ok {
			return fmt.Errorf("embedetcd: %s: %w before it was ready", s.name(), ErrStopped)
		}
		return fmt.Errorf("embedetcd: %s: %w", s.name(), err)
	case <-s.e.Server.StopNotify():
		return fmt.Errorf("embedetcd: %s: %w before it was ready", s.name(), ErrStopped)
	case <-ctx.Done():
		return fmt.Errorf("embedetcd: %s not ready: %w", s.name(), context.Cause(ctx))
	}
}

func (s *Server) name() string {
	if s.cfg.Name != "" {
		return s.cfg.Name
	}
	return "member in " + s.dataDir
}

// Endpoints returns the URLs clients dial: unix:///path/client.sock for
// the private socket, else the advertised client URLs.
func (s *Server) Endpoints() []string { return append([]string(nil), s.endpoints...) }

// ClientTLSConfig returns nil: the server's clients connect without TLS
// (the private socket's directory is what keeps others out).
func (s *Server) ClientTLSConfig() *tls.Config { return nil }

// DataDir returns the absolute path of the data directory.
func (s *Server) DataDir() string { return s.dataDir }

// SocketDir returns the private directory of the client socket, or "" when
// the server listens on the URLs of its Config.
func (s *Server) SocketDir() string {
	if len(s.cfg.ListenClientURLs) != 0 {
		return ""
	}
	return s.privDir
}

// Etcd returns etcd's own server, for what this package does not wrap.
func (s *Server) Etcd() *embed.Etcd { return s.e }

// Close stops the server gracefully (a leader hands its leadership over
// first), ends the calls and streams of its clients at once, releases the
// data directory and removes what Launch made: the private directory and a
// temporary data directory. It is idempotent.
func (s *Server) Close() error { return s.stop(false) }

// Kill stops the server abruptly, as when the process dies: no leadership
// transfer. The data directory is kept and released as by Close.
func (s *Server) Kill() error { return s.stop(true) }

func (s *Server) stop(hard bool) error {
	s.closeOnce.Do(func() {
		s.cutClients()
		if hard {
			s.e.Server.HardStop()
		} else {
			s.e.Server.Stop()
		}
		if s.cfg.AfterStop != nil {
			s.cfg.AfterStop()
		}
		s.e.Close()
		s.closeErr = s.release()
	})
	return s.closeErr
}

// release gives up the lock and removes the private directory.
func (s *Server) release() error {
	var errs []error
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	if s.privLock != nil {
		errs = append(errs, s.privLock.Close())
	}
	if s.privDir != "" {
		if err := os.RemoveAll(s.privDir); err != nil {
			errs = append(errs, fmt.Errorf("embedetcd: %w", err))
		}
	}
	return errors.Join(errs...)
}
