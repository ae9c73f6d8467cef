package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/metadata"
)

// tokenSource holds the auth token of a client configured with a username
// (or a fixed Config.Token), and renews a login's token at most once per
// stale token however many calls notice.
type tokenSource struct {
	c  *Client
	mu sync.Mutex // held by the one login in progress
	// token is the current token, nil before the first login; "" when the
	// login found authentication off, so no token is sent.
	token atomic.Pointer[string]
	on    bool
	fixed bool // Config.Token: sent as given, never renewed
}

func (t *tokenSource) init(c *Client) {
	t.c = c
	t.fixed = c.Token != ""
	t.on = c.Username != "" || t.fixed
}

func (t *tokenSource) enabled() bool { return t.on }

// get returns the current token, logging in first when there is none. A
// non-empty stale is a token a call was refused with: the client logs in
// again unless the current token is already another one.
func (t *tokenSource) get(ctx context.Context, stale string) (string, error) {
	if !t.on {
		return "", errNoCredentials
	}
	if t.fixed {
		return t.c.Token, nil
	}
	if p := t.token.Load(); p != nil && (stale == "" || *p != stale) {
		return *p, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.token.Load(); p != nil && (stale == "" || *p != stale) {
		return *p, nil
	}
	resp := new(pb.AuthenticateResponse)
	req := &pb.AuthenticateRequest{Name: t.c.Username, Password: t.c.Password}
	// Authenticate is safe to repeat: it changes nothing but the token.
	if err := t.c.invokeNoAuth(ctx, methodAuthenticate, req, resp); err != nil {
		if errors.Is(err, rpctypes.ErrAuthNotEnabled) {
			// As clientv3: a cluster without authentication takes
			// calls with no token. Should it turn authentication on,
			// a call refused for want of a token logs in again (see
			// needsLogin).
			empty := ""
			t.token.Store(&empty)
			return "", nil
		}
		return "", fmt.Errorf("etcdclient: login as %q: %w", t.c.Username, err)
	}
	t.token.Store(&resp.Token)
	return resp.Token, nil
}

// forgetEmpty drops the empty token of a login that found authentication
// off, so that the next get logs in again.
func (t *tokenSource) forgetEmpty() {
	if p := t.token.Load(); p != nil && *p == "" {
		t.token.CompareAndSwap(p, nil)
	}
}

// needsLogin reports whether a call refused with err, sent with token, is
// to be repeated after a new login: the token was stale, or the call went
// without one (the login had found authentication off) and the server now
// wants one, as clientv3 decides. A fixed Config.Token is never renewed.
func (t *tokenSource) needsLogin(err error, token string) bool {
	if !t.on || t.fixed {
		return false
	}
	return isTokenError(err)
}

// current returns the token without logging in; "" when there is none.
func (t *tokenSource) current() string {
	if p := t.token.Load(); p != nil {
		return *p
	}
	return ""
}

// withToken returns ctx carrying token, or ctx itself when there is no
// token to send (the cluster had authentication off at the login).
func withToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token)
}

// invokeNoAuth is invoke for the login call itself, which carries no token.
func (c *Client) invokeNoAuth(ctx context.Context, method string, req, resp message) error {
	attempt := 0
	for {
		err := c.conn.Invoke(ctx, method, req, resp)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !shouldRetry(err, true) || c.retriesSpent(attempt) {
			return c.toErr(ctx, err)
		}
		attempt++
		if sleepCtx(ctx, c.unaryBackoff(attempt)) != nil {
			return c.toErr(ctx, err)
		}
	}
}
