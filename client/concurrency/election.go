package concurrency

import (
	"context"
	"errors"
	"fmt"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

var (
	// ErrElectionNotLeader is returned by Proclaim when this Election is
	// not (or no longer) the leader.
	ErrElectionNotLeader = errors.New("election: not leader")
	// ErrElectionNoLeader is returned by Leader when nobody campaigns.
	ErrElectionNoLeader = errors.New("election: no leader")
)

// Election is one participant of a leader election: each campaigner puts a
// key under the election's prefix, attached to its session's lease, and
// the key with the lowest create revision is the leader, its value the
// leader's proclamation. An Election is not safe for concurrent use, except
// that Observe may run alongside the other methods.
type Election struct {
	session   *Session
	keyPrefix string

	leaderKey     string
	leaderRev     int64
	leaderSession *Session
	hdr           *pb.ResponseHeader
}

// NewElection returns a participant of the election named by pfx (its keys
// live under pfx + "/").
func NewElection(s *Session, pfx string) *Election {
	return &Election{session: s, keyPrefix: pfx + "/"}
}

// ResumeElection returns a participant that is already the leader with the
// given key and create revision (from Key and Rev of an earlier Election),
// for instance after a restart with a session made WithLease.
func ResumeElection(s *Session, pfx string, leaderKey string, leaderRev int64) *Election {
	return &Election{
		session:       s,
		keyPrefix:     pfx + "/",
		leaderKey:     leaderKey,
		leaderRev:     leaderRev,
		leaderSession: s,
	}
}

// Campaign puts val as this session's candidacy and waits until it is the
// leader: until every candidate that campaigned earlier has resigned or
// lost its session. A session that campaigns again keeps its place and
// proclaims val. Campaign returns ErrSessionExpired if the session ends
// before or while it waits; if ctx ends or waiting fails, it withdraws the
// candidacy and returns the error.
func (e *Election) Campaign(ctx context.Context, val string) error {
	if err := checkArgs("Election.Campaign", ctx, e.session); err != nil {
		return err
	}
	s := e.session
	if !s.alive() {
		return ErrSessionExpired
	}
	cli := s.conn
	k := fmt.Sprintf("%s%x", e.keyPrefix, int64(s.Lease()))
	resp, err := cli.Txn(ctx).
		If(client.Compare(client.CreateRevision(k), "=", 0)).
		Then(client.OpPut(k, val, client.WithLease(s.Lease()))).
		Else(client.OpGet(k)).
		Commit()
	if err != nil {
		return fmt.Errorf("concurrency: campaign with %q: %w", k, err)
	}
	e.leaderKey, e.leaderRev, e.leaderSession = k, resp.Header.Revision, s
	if !resp.Succeeded {
		kv := resp.Responses[0].GetResponseRange().Kvs[0]
		e.leaderRev = kv.CreateRevision
		if string(kv.Value) != val {
			if err := e.Proclaim(ctx, val); err != nil {
				e.withdraw(ctx)
				return err
			}
		}
	}

	wctx, cancel := sessionCtx(ctx, s)
	werr := waitDeletes(wctx, cli, e.keyPrefix, e.leaderRev-1)
	cancel()
	if !s.alive() && ctx.Err() == nil {
		e.withdraw(ctx)
		return ErrSessionExpired
	}
	if werr != nil {
		e.withdraw(ctx)
		return werr
	}
	// Every earlier candidate is gone; our key must still be the one we
	// created, or the session's lease expired while we waited.
	gresp, err := cli.Get(ctx, k)
	if err != nil {
		e.withdraw(ctx)
		return err
	}
	if len(gresp.Kvs) == 0 || gresp.Kvs[0].CreateRevision != e.leaderRev {
		e.forget()
		return ErrSessionExpired
	}
	e.hdr = gresp.Header
	return nil
}

// withdraw deletes this candidacy's key (if still the one created) and
// forgets it; best effort, the key goes with the lease anyway.
func (e *Election) withdraw(ctx context.Context) {
	if e.leaderKey != "" {
		if err := deleteOwn(ctx, e.session.conn, e.leaderKey, e.leaderRev); err != nil {
			e.session.conn.GetLogger().Debug("concurrency: could not delete abandoned candidacy")
		}
	}
	e.forget()
}

func (e *Election) forget() {
	e.leaderKey = ""
	e.leaderSession = nil
}

// Proclaim changes the leader's value without a new election. It returns
// ErrElectionNotLeader if this Election is not the leader, or no longer
// holds its key; in the latter case the candidacy is forgotten (Key returns
// "" and Resign does nothing).
func (e *Election) Proclaim(ctx context.Context, val string) error {
	if err := checkArgs("Election.Proclaim", ctx, e.session); err != nil {
		return err
	}
	if e.leaderSession == nil {
		return ErrElectionNotLeader
	}
	resp, err := e.session.conn.Txn(ctx).
		If(client.Compare(client.CreateRevision(e.leaderKey), "=", e.leaderRev)).
		Then(client.OpPut(e.leaderKey, val, client.WithLease(e.leaderSession.Lease()))).
		Commit()
	if err != nil {
		return fmt.Errorf("concurrency: proclaim on %q: %w", e.leaderKey, err)
	}
	if !resp.Succeeded {
		// The key is gone (the session's lease expired or was revoked):
		// forget the candidacy entirely, so that Proclaim and Resign
		// see "not leader" instead of comparing on an empty key.
		e.forget()
		return ErrElectionNotLeader
	}
	e.hdr = resp.Header
	return nil
}

// Resign gives up the leadership (or candidacy) by deleting this
// Election's key, so the next candidate becomes leader. Resigning when not
// leader does nothing.
func (e *Election) Resign(ctx context.Context) error {
	if err := checkArgs("Election.Resign", ctx, e.session); err != nil {
		return err
	}
	if e.leaderSession == nil {
		return nil
	}
	resp, err := e.session.conn.Txn(ctx).
		If(client.Compare(client.CreateRevision(e.leaderKey), "=", e.leaderRev)).
		Then(client.OpDelete(e.leaderKey)).
		Commit()
	e.forget()
	if err != nil {
		return fmt.Errorf("concurrency: resign: %w", err)
	}
	e.hdr = resp.Header
	return nil
}

// Leader returns the current leader's key and value, or
// ErrElectionNoLeader when nobody campaigns.
func (e *Election) Leader(ctx context.Context) (*client.GetResponse, error) {
	if err := checkArgs("Election.Leader", ctx, e.session); err != nil {
		return nil, err
	}
	resp, err := e.session.conn.Get(ctx, e.keyPrefix, client.WithFirstCreate()...)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrElectionNoLeader
	}
	return resp, nil
}

// Observe returns a channel that receives the leader (key and value) now
// and on every change: a new value proclaimed, a new leader elected. A
// reader that falls behind skips intermediate values but always gets the
// latest; the same value is never sent twice. Observing goes on across
// lost members and leader changes of the cluster; the channel closes when
// ctx ends, the client is closed, or watching fails for good (permission
// denied). A nil ctx gives a closed channel.
func (e *Election) Observe(ctx context.Context) <-chan *client.GetResponse {
	ch := make(chan *client.GetResponse)
	if ctx == nil || e.session == nil {
		close(ch)
		return ch
	}
	go e.observe(ctx, ch)
	return ch
}

func (e *Election) observe(ctx context.Context, ch chan<- *client.GetResponse) {
	defer close(ch)
	cli := e.session.conn
	o := observer{ctx: ctx, ch: ch}
	for ctx.Err() == nil {
		resp, err := cli.Get(ctx, e.keyPrefix, client.WithFirstCreate()...)
		if err != nil {
			if !o.mayGoOn(err) {
				return
			}
			continue
		}
		if len(resp.Kvs) == 0 {
			// Wait for a candidate, then read who leads.
			err = waitEvent(ctx, cli, e.keyPrefix, resp.Header.Revision, true, nil)
		} else {
			kv := resp.Kvs[0]
			if !o.send(resp.Header, kv) {
				return
			}
			// Follow the leader's key until it is deleted.
			err = waitEvent(ctx, cli, string(kv.Key), resp.Header.Revision, false, func(h *pb.ResponseHeader, ev *mvccpb.Event) bool {
				if ev.Type != mvccpb.PUT {
					return true
				}
				return o.send(h, ev.Kv)
			})
		}
		if err != nil && !o.mayGoOn(err) {
			return
		}
	}
}

// observer sends leader values on an Observe channel, skipping repeats.
type observer struct {
	ctx     context.Context
	ch      chan<- *client.GetResponse
	lastKey string
	lastRev int64
}

// send delivers kv unless it was the last one delivered; false when the
// observer's context ended.
func (o *observer) send(h *pb.ResponseHeader, kv *mvccpb.KeyValue) bool {
	if string(kv.Key) == o.lastKey && kv.ModRevision == o.lastRev {
		return true
	}
	// Count stays 0, as in the official package: the response is made
	// here from a kv, not read as a range.
	resp := &client.GetResponse{Header: h, Kvs: []*mvccpb.KeyValue{kv}}
	select {
	case o.ch <- resp:
		o.lastKey, o.lastRev = string(kv.Key), kv.ModRevision
		return true
	case <-o.ctx.Done():
		return false
	}
}

// mayGoOn pauses after an error that may heal and says whether to go on.
func (o *observer) mayGoOn(err error) bool {
	if o.ctx.Err() != nil || !mayRetryWait(err) {
		return false
	}
	return pause(o.ctx, retryPause) == nil
}

// waitEvent watches key (a prefix with prefix set) from revision rev+1.
// Each event goes to onEvent (when not nil), which returns false to stop
// the wait. The wait ends without error at the first event when onEvent is
// nil, and at the first deletion otherwise.
func waitEvent(ctx context.Context, cli *conn, key string, rev int64, prefix bool, onEvent func(*pb.ResponseHeader, *mvccpb.Event) bool) error {
	wctx, cancel := context.WithCancel(client.WithRequireLeader(ctx))
	defer cancel()
	opts := []client.OpOption{client.WithRev(rev + 1)}
	if prefix {
		opts = append(opts, client.WithPrefix())
	}
	for wr := range cli.Watch(wctx, key, opts...) {
		if err := wr.Err(); err != nil {
			return err
		}
		for _, ev := range wr.Events {
			if onEvent == nil {
				return nil
			}
			if !onEvent(wr.Header, ev) {
				return ctx.Err()
			}
			if ev.Type == mvccpb.DELETE {
				return nil
			}
		}
	}
	return watchEnded(ctx, cli)
}

// Key returns the key of this Election's candidacy while it campaigns or
// leads, "" otherwise.
func (e *Election) Key() string { return e.leaderKey }

// Rev returns the create revision of this Election's key.
func (e *Election) Rev() int64 { return e.leaderRev }

// Header returns the header of the last response that confirmed or changed
// the leadership.
func (e *Election) Header() *pb.ResponseHeader { return e.hdr }
