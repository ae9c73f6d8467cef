package concurrency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// cleanupTimeout bounds the deletion of a key left behind by a failed Lock
// or Campaign when the caller's context can no longer be used. The key is
// attached to the session's lease, so it goes at the latest with the lease.
const cleanupTimeout = 10 * time.Second

// retryPause is the pause before waiting again after a watch failed in a way
// that may heal (no leader, a lost member).
const retryPause = 200 * time.Millisecond

// errWatchEnded reports a watch whose channel closed with no error while
// its context and client were still live: its Watcher was closed.
var errWatchEnded = errors.New("concurrency: watch ended")

// watchEnded names why a watch channel closed without an error.
func watchEnded(ctx context.Context, cli *conn) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if cli.Ctx().Err() != nil {
		return client.ErrClientClosed
	}
	return errWatchEnded
}

// waitDeletes waits until no key under pfx has a create revision at most
// maxCreateRev: each round waits for the deletion of the newest such key,
// the one just ahead of the caller, so a release wakes one waiter only.
func waitDeletes(ctx context.Context, cli *conn, pfx string, maxCreateRev int64) error {
	opts := append(client.WithLastCreate(), client.WithMaxCreateRev(maxCreateRev))
	for {
		resp, err := cli.Get(ctx, pfx, opts...)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		err = waitDelete(ctx, cli, string(resp.Kvs[0].Key), resp.Header.Revision)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !mayRetryWait(err) {
			return err
		}
		// Look again: the key may be gone already.
		if perr := pause(ctx, retryPause); perr != nil {
			return perr
		}
	}
}

// waitDelete waits for key to be deleted after revision rev.
func waitDelete(ctx context.Context, cli *conn, key string, rev int64) error {
	// WithRequireLeader ends the watch on a member cut off from the
	// cluster, where it would otherwise wait without ever seeing a change.
	wctx, cancel := context.WithCancel(client.WithRequireLeader(ctx))
	defer cancel()
	for wr := range cli.Watch(wctx, key, client.WithRev(rev+1), client.WithFilterPut()) {
		if err := wr.Err(); err != nil {
			return err
		}
		for _, ev := range wr.Events {
			if ev.Type == mvccpb.DELETE {
				return nil
			}
		}
	}
	return watchEnded(ctx, cli)
}

// mayRetryWait says whether a wait that failed with err should start over:
// a compaction past the watch's revision (the next round reads the current
// state again) or an error that may heal.
func mayRetryWait(err error) bool {
	if errors.Is(err, rpctypes.ErrCompacted) {
		return true
	}
	return client.Classify(err).Retryable
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sessionCtx returns a context that ends with ctx or with the session,
// whichever comes first, so a wait stops as soon as the session is lost.
func sessionCtx(ctx context.Context, s *Session) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.Ctx(), cancel)
	return wctx, func() {
		stop()
		cancel()
	}
}

// deleteOwn deletes key if it is still the incarnation created at rev,
// with a context of its own when ctx has ended: a key left behind would
// block other sessions until the lease expires.
func deleteOwn(ctx context.Context, cli *conn, key string, rev int64) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(cli.Ctx(), cleanupTimeout)
		defer cancel()
	}
	_, err := cli.Txn(ctx).
		If(client.Compare(client.CreateRevision(key), "=", rev)).
		Then(client.OpDelete(key)).
		Commit()
	if err != nil {
		return fmt.Errorf("concurrency: delete %q: %w", key, err)
	}
	return nil
}

func checkArgs(name string, ctx context.Context, s *Session) error {
	if ctx == nil {
		return fmt.Errorf("%w: %s: nil context", client.ErrInvalidArgument, name)
	}
	if s == nil {
		return fmt.Errorf("%w: %s: nil session", client.ErrInvalidArgument, name)
	}
	return nil
}
