package client

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// tokenSource holds the auth token of a client configured with a username,
// and renews it at most once per stale token however many calls notice.
type tokenSource struct {
	c  *Client
	mu sync.Mutex // held by the one login in progress
	// token is the current token, nil before the first login.
	token atomic.Pointer[string]
	on    bool
}

func (t *tokenSource) init(c *Client) {
	t.c = c
	t.on = c.Username != ""
}

func (t *tokenSource) enabled() bool { return t.on }

// get returns the current token, logging in first when there is none or when
// the current one is stale (the token a call was refused with).
func (t *tokenSource) get(ctx context.Context, stale string) (string, error) {
	if !t.on {
		return "", errNoCredentials
	}
	if p := t.token.Load(); p != nil && *p != stale {
		return *p, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.token.Load(); p != nil && *p != stale {
		return *p, nil
	}
	resp := new(pb.AuthenticateResponse)
	req := &pb.AuthenticateRequest{Name: t.c.Username, Password: t.c.Password}
	// Authenticate is safe to repeat: it changes nothing but the token.
	if err := t.c.invokeNoAuth(ctx, methodAuthenticate, req, resp); err != nil {
		return "", fmt.Errorf("etcdclient: login as %q: %w", t.c.Username, err)
	}
	t.token.Store(&resp.Token)
	return resp.Token, nil
}

// current returns the token without logging in; "" when there is none.
func (t *tokenSource) current() string {
	if p := t.token.Load(); p != nil {
		return *p
	}
	return ""
}

// invokeNoAuth is invoke for the login call itself, which carries no token.
func (c *Client) invokeNoAuth(ctx context.Context, method string, req, resp message) error {
	attempt := 0
	for {
		err := c.conn.Invoke(ctx, method, req, resp)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !shouldRetry(err, true) {
			return c.toErr(ctx, err)
		}
		attempt++
		if sleepCtx(ctx, retryBackoff(attempt)) != nil {
			return c.toErr(ctx, err)
		}
	}
}
