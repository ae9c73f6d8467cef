package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gRPC method names of the calls made through invoke.
const (
	methodRange        = "/etcdserverpb.KV/Range"
	methodPut          = "/etcdserverpb.KV/Put"
	methodDeleteRange  = "/etcdserverpb.KV/DeleteRange"
	methodTxn          = "/etcdserverpb.KV/Txn"
	methodCompact      = "/etcdserverpb.KV/Compact"
	methodMemberList   = "/etcdserverpb.Cluster/MemberList"
	methodStatus       = "/etcdserverpb.Maintenance/Status"
	methodAuthenticate = "/etcdserverpb.Auth/Authenticate"
)

// message is what gRPC marshals: every etcdserverpb request and response.
type message = any

// invoke makes one unary call with the retry policy of doc.go: a call marked
// safe (read-only) is repeated on Unavailable with backoff until its context
// ends; any call is repeated when the server provably did not act on it
// (no leader, too many requests), and once after renewing an auth token the
// server called invalid. The returned error has been through toErr.
func (c *Client) invoke(ctx context.Context, method string, req, resp message, safe bool) error {
	return c.invokeOn(ctx, c.conn, method, req, resp, safe)
}

// invokeOn is invoke on a given connection: the balanced one, or the
// connection to one endpoint for the calls that name it.
func (c *Client) invokeOn(ctx context.Context, conn grpc.ClientConnInterface, method string, req, resp message, safe bool) error {
	if ctx == nil {
		return invalidArg("%s: nil context", method)
	}
	var (
		token    string
		renewed  bool
		tries    int
		tokenSet = c.auth.enabled()
		// A read on the balanced connection can be moved off a member
		// that stops answering (health.go).
		movable = safe && conn == grpc.ClientConnInterface(c.conn)
	)
	for {
		callCtx := ctx
		var att *attempt
		if movable {
			if att = c.health.newAttempt(ctx); att != nil {
				callCtx = att
			}
		}
		if tokenSet {
			var err error
			if token, err = c.auth.get(ctx, ""); err != nil {
				c.health.release(att)
				return err
			}
			callCtx = withToken(callCtx, token)
		}
		err := conn.Invoke(callCtx, method, req, resp)
		moved := c.health.release(att)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || c.ctx.Err() != nil {
			return c.toErr(ctx, err)
		}
		if moved {
			// Its member was found hung: send it again at once; the
			// picker no longer chooses that member.
			continue
		}
		if !renewed && c.auth.needsLogin(err, token) {
			renewed = true
			c.auth.forgetEmpty()
			if _, rerr := c.auth.get(ctx, token); rerr != nil {
				return rerr
			}
			continue
		}
		if !shouldRetry(err, safe) || c.retriesSpent(tries) {
			return c.toErr(ctx, err)
		}
		tries++
		if werr := sleepCtx(ctx, c.unaryBackoff(tries)); werr != nil {
			return c.toErr(ctx, err)
		}
	}
}

// retriesSpent reports whether a unary call repeated attempt times, so sent
// attempt+1 times, may not be sent again (Config.MaxUnaryRetries counts
// every sending, as clientv3's does).
func (c *Client) retriesSpent(attempt int) bool {
	return c.cfg.MaxUnaryRetries > 0 && uint(attempt)+1 >= c.cfg.MaxUnaryRetries
}

// unaryBackoff is the wait before repeating a unary call: retryBackoff, or
// Config.BackoffWaitBetween with Config.BackoffJitterFraction when set.
func (c *Client) unaryBackoff(attempt int) time.Duration {
	wait := c.cfg.BackoffWaitBetween
	if wait <= 0 {
		return retryBackoff(attempt)
	}
	jitter := c.cfg.BackoffJitterFraction
	if jitter <= 0 {
		jitter = defaultBackoffJitterFraction
	}
	spread := time.Duration(jitter * float64(wait))
	return wait - spread + rand.N(2*spread+1)
}

// shouldRetry says whether a failed call may be sent again. Writes are
// repeated only on errors the server returns before proposing anything.
func shouldRetry(err error, safe bool) bool {
	ee := rpctypes.Error(err)
	if ee == rpctypes.ErrNoLeader || ee == rpctypes.ErrTooManyRequests || ee == rpctypes.ErrNotCapable {
		return true
	}
	if !safe {
		return false
	}
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unavailable
}

// isTokenError reports whether err asks for a (new) login: the token was
// stale, or none was sent (the login had found authentication off, and it
// has been turned on since). Requests that name an empty user are refused
// before they are sent, so ErrUserEmpty from the server means no token.
func isTokenError(err error) bool {
	ee := rpctypes.Error(err)
	return ee == rpctypes.ErrInvalidAuthToken || ee == rpctypes.ErrAuthOldRevision || ee == rpctypes.ErrUserEmpty
}

// retryBackoff is jittered exponential: about 10 ms, 20 ms, ... up to 500 ms.
func retryBackoff(attempt int) time.Duration {
	d := 10 * time.Millisecond << min(attempt-1, 6)
	d = min(d, 500*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var errNoCredentials = errors.New("etcdclient: no username configured")
