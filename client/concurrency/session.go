package concurrency

import (
	"context"
	"fmt"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"go.uber.org/zap"
)

// defaultSessionTTL is the TTL, in seconds, of a session's lease unless
// WithTTL says otherwise.
const defaultSessionTTL = 60

// Session is a lease kept alive until the session is closed or orphaned,
// its context ends, or the lease is lost. Locks and elections attach their
// keys to it.
type Session struct {
	client *client.Client
	conn   *conn // what its locks and elections act through
	opts   sessionOptions
	id     client.LeaseID

	ctx    context.Context
	cancel context.CancelFunc
	donec  chan struct{}
	// err is why the keepalive ended; written before donec closes.
	err error
}

// NewSession grants a lease with the session's TTL (or takes over the one
// given by WithLease) and keeps it alive in the background.
func NewSession(cli *client.Client, opts ...SessionOption) (*Session, error) {
	if cli == nil {
		return nil, fmt.Errorf("%w: NewSession: nil client", client.ErrInvalidArgument)
	}
	so := sessionOptions{ttl: defaultSessionTTL, ctx: cli.Ctx()}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: NewSession: nil SessionOption", client.ErrInvalidArgument)
		}
		opt(&so)
	}
	if so.err != nil {
		return nil, so.err
	}

	id := so.leaseID
	if id == client.NoLease {
		resp, err := cli.Grant(so.ctx, int64(so.ttl))
		if err != nil {
			return nil, fmt.Errorf("concurrency: grant session lease: %w", err)
		}
		id = resp.ID
	}
	ctx, cancel := context.WithCancel(so.ctx)
	ch, err := cli.KeepAlive(ctx, id)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("concurrency: keep session lease %016x alive: %w", int64(id), err)
	}
	c := &conn{KV: cli.KV, Watcher: cli.Watcher, cli: cli}
	if so.prefix != "" {
		c.KV, c.Watcher = namespace.NewKV(cli.KV, so.prefix), namespace.NewWatcher(cli.Watcher, so.prefix)
	}
	s := &Session{client: cli, conn: c, opts: so, id: id, ctx: ctx, cancel: cancel, donec: make(chan struct{})}
	go s.watchKeepAlive(ch)
	return s, nil
}

// watchKeepAlive drains the renewals until the keepalive ends, then ends
// the session.
func (s *Session) watchKeepAlive(ch <-chan *client.LeaseKeepAliveResponse) {
	for range ch {
	}
	s.err = client.KeepAliveError(ch)
	close(s.donec)
	s.cancel()
}

// Client returns the client the session uses.
func (s *Session) Client() *client.Client { return s.client }

// Lease returns the ID of the session's lease.
func (s *Session) Lease() client.LeaseID { return s.id }

// Ctx returns a context that ends with the session: when it is closed or
// orphaned, or its lease is no longer kept alive.
func (s *Session) Ctx() context.Context { return s.ctx }

// Done returns a channel that closes when the session ends: it was closed
// or orphaned, or its lease is no longer kept alive (Err says why).
func (s *Session) Done() <-chan struct{} { return s.donec }

// Err returns why the session ended, nil while it lasts: the reason its
// keepalive channel closed (see client.KeepAliveError), such as
// rpctypes.ErrLeaseNotFound for a lease that expired or was revoked, an
// error wrapping client.ErrLeaseExpired when the cluster could not be
// reached within the TTL, or context.Canceled after Orphan or Close.
func (s *Session) Err() error {
	select {
	case <-s.donec:
		return s.err
	default:
		return nil
	}
}

// Orphan stops keeping the lease alive without revoking it: the lease
// expires after its TTL unless another session takes it over with
// WithLease. Orphan returns once the session has ended.
func (s *Session) Orphan() {
	s.cancel()
	<-s.donec
}

// Close ends the session and revokes its lease, deleting the keys attached
// to it. The revoke is given the session's TTL at most: after that the
// lease has expired anyway.
func (s *Session) Close() error {
	s.Orphan()
	ctx, cancel := context.WithTimeout(s.opts.ctx, time.Duration(s.opts.ttl)*time.Second)
	defer cancel()
	if _, err := s.client.Revoke(ctx, s.id); err != nil {
		return fmt.Errorf("concurrency: revoke session lease %016x: %w", int64(s.id), err)
	}
	return nil
}

// alive reports whether the session has not ended. Its context can end a
// moment before Done closes (when a WithContext context ends), and waits
// are bound to the context, so both are checked.
func (s *Session) alive() bool {
	select {
	case <-s.donec:
		return false
	default:
		return s.ctx.Err() == nil
	}
}

type sessionOptions struct {
	ttl     int
	leaseID client.LeaseID
	ctx     context.Context
	prefix  string
	err     error
}

// SessionOption configures a Session.
type SessionOption func(*sessionOptions)

// WithTTL sets the TTL of the session's lease, in seconds; the default is
// 60. A TTL that is not positive makes NewSession fail.
func WithTTL(ttl int) SessionOption {
	return func(so *sessionOptions) {
		if ttl <= 0 {
			so.fail(fmt.Errorf("%w: WithTTL(%d): the TTL must be a positive number of seconds", client.ErrInvalidArgument, ttl))
			return
		}
		so.ttl = ttl
	}
}

// WithLease makes the session keep an existing lease alive instead of
// granting one, for instance to take back a lock or leadership held before
// a restart. The session's TTL is then only used to bound Close.
func WithLease(leaseID client.LeaseID) SessionOption {
	return func(so *sessionOptions) { so.leaseID = leaseID }
}

// WithContext sets the context of the session instead of the client's: it
// bounds NewSession and Close, and the session ends when it ends. If it ends
// before Close has revoked the lease, the lease is left to expire.
func WithContext(ctx context.Context) SessionOption {
	return func(so *sessionOptions) {
		if ctx == nil {
			so.fail(fmt.Errorf("%w: WithContext: nil context", client.ErrInvalidArgument))
			return
		}
		so.ctx = ctx
	}
}

// WithNamespace puts the keys of the session's locks and elections under
// prefix, as if the client's KV and Watcher had been wrapped by package
// namespace: a Mutex's Key and an Election's Key and Leader are then
// without the prefix. It is for a caller that must not change a client it
// shares (clientv3's way is to set the client's KV, Watcher and Lease
// fields to namespaced ones, which this package follows too). The lease
// itself is not in a namespace.
func WithNamespace(prefix string) SessionOption {
	return func(so *sessionOptions) { so.prefix = prefix }
}

// conn is what a session's locks and elections act through: the client's
// own KV and Watcher, or namespaced views of them (WithNamespace).
type conn struct {
	client.KV
	client.Watcher
	cli *client.Client
}

func (c *conn) Ctx() context.Context   { return c.cli.Ctx() }
func (c *conn) GetLogger() *zap.Logger { return c.cli.GetLogger() }

func (so *sessionOptions) fail(err error) {
	if so.err == nil {
		so.err = err
	}
}
