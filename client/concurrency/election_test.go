package concurrency_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	officialconc "go.etcd.io/etcd/client/v3/concurrency"
)

// observed collects the values an Observe channel delivers.
type observed struct {
	ch  <-chan *client.GetResponse
	got []string
}

// next waits for the next value.
func (o *observed) next(t *testing.T) string {
	t.Helper()
	select {
	case r, ok := <-o.ch:
		if !ok {
			t.Fatalf("Observe channel closed after %q", o.got)
		}
		if len(r.Kvs) != 1 || r.Header == nil {
			t.Fatalf("Observe response %+v", r)
		}
		v := string(r.Kvs[0].Value)
		o.got = append(o.got, v)
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no leader value observed after %q", o.got)
		return ""
	}
}

func TestElection(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "election/main"

	s1, s2 := e.session(t), e.session(t)
	e1, e2 := concurrency.NewElection(s1, pfx), concurrency.NewElection(s2, pfx)
	if _, err := e1.Leader(ctx); err != concurrency.ErrElectionNoLeader {
		t.Fatalf("Leader before any campaign: %v", err)
	}
	if err := e1.Proclaim(ctx, "x"); err != concurrency.ErrElectionNotLeader {
		t.Fatalf("Proclaim before campaigning: %v", err)
	}

	octx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	obs := &observed{ch: e2.Observe(octx)}

	if err := e1.Campaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%s/%x", pfx, int64(s1.Lease())); e1.Key() != want || e1.Rev() == 0 || e1.Header() == nil {
		t.Fatalf("leader key %q rev %d, want %q", e1.Key(), e1.Rev(), want)
	}
	if v := obs.next(t); v != "a" {
		t.Fatalf("observed %q, want a", v)
	}
	leader, err := e2.Leader(ctx)
	if err != nil || string(leader.Kvs[0].Value) != "a" {
		t.Fatalf("Leader: %v, %v", leader, err)
	}
	// The official client reads the same leader.
	os, err := officialconc.NewSession(e.oracle)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	oleader, err := officialconc.NewElection(os, pfx).Leader(ctx)
	if err != nil || string(oleader.Kvs[0].Value) != "a" || string(oleader.Kvs[0].Key) != e1.Key() {
		t.Fatalf("official Leader: %v, %v", oleader, err)
	}

	if err := e1.Proclaim(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "b" {
		t.Fatalf("observed %q, want b", v)
	}

	// A second campaigner waits until the leader resigns.
	done := make(chan error, 1)
	go func() { done <- e2.Campaign(ctx, "c") }()
	e.waitKeys(t, pfx+"/", 2)
	pending(t, done, "Campaign of the second candidate")
	if err := e1.Proclaim(ctx, "b2"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "b2" {
		t.Fatalf("observed %q, want b2", v)
	}
	if err := e1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := result(t, done, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "c" {
		t.Fatalf("observed %q, want c", v)
	}
	if leader, err := e1.Leader(ctx); err != nil || string(leader.Kvs[0].Value) != "c" || string(leader.Kvs[0].Key) != e2.Key() {
		t.Fatalf("Leader after resign: %v, %v", leader, err)
	}
	if err := e1.Proclaim(ctx, "stale"); err != concurrency.ErrElectionNotLeader {
		t.Fatalf("Proclaim after Resign: %v", err)
	}
	if err := e1.Resign(ctx); err != nil {
		t.Fatalf("Resign when not leader: %v", err)
	}
	if err := e2.Proclaim(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "d" {
		t.Fatalf("observed %q, want d", v)
	}
	if want := []string{"a", "b", "b2", "c", "d"}; !slices.Equal(obs.got, want) {
		t.Fatalf("observed %q, want %q", obs.got, want)
	}

	// Campaigning again as leader keeps the place and proclaims the value.
	if err := e2.Campaign(ctx, "e"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "e" {
		t.Fatalf("observed %q, want e", v)
	}

	// A leader that resumes its election after a restart can proclaim.
	resumed := concurrency.ResumeElection(s2, pfx, e2.Key(), e2.Rev())
	if err := resumed.Proclaim(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "f" {
		t.Fatalf("observed %q, want f", v)
	}

	stopObserving()
	select {
	case _, ok := <-obs.ch:
		for ok {
			_, ok = <-obs.ch
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Observe channel open after its context ended")
	}
}

// TestElectionObserveFromEmpty starts observing before anyone campaigns.
func TestElectionObserveFromEmpty(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "election/empty"

	el := concurrency.NewElection(e.session(t), pfx)
	obs := &observed{ch: concurrency.NewElection(e.session(t), pfx).Observe(ctx)}
	pendingObserve := func() {
		select {
		case r := <-obs.ch:
			t.Fatalf("observed %v with no candidate", r)
		case <-time.After(300 * time.Millisecond):
		}
	}
	pendingObserve()
	if err := el.Campaign(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "first" {
		t.Fatalf("observed %q", v)
	}
	if err := el.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	pendingObserve()
	if err := el.Campaign(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	if v := obs.next(t); v != "again" {
		t.Fatalf("observed %q", v)
	}
}

// TestElectionSessionExpiredWhileWaiting ends the session of a waiting
// candidate: Campaign returns ErrSessionExpired and the candidacy is gone.
func TestElectionSessionExpiredWhileWaiting(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)
	const pfx = "election/expire"

	e1 := concurrency.NewElection(e.session(t), pfx)
	if err := e1.Campaign(ctx, "leader"); err != nil {
		t.Fatal(err)
	}
	s2 := e.session(t, concurrency.WithTTL(2))
	e2 := concurrency.NewElection(s2, pfx)
	done := make(chan error, 1)
	go func() { done <- e2.Campaign(ctx, "waiting") }()
	e.waitKeys(t, pfx+"/", 2)
	e.revoke(t, s2)
	if err := result(t, done, 10*time.Second); err != concurrency.ErrSessionExpired {
		t.Fatalf("Campaign of an expired session: %v, want ErrSessionExpired", err)
	}
	if ks := e.keys(t, pfx+"/"); !slices.Equal(ks, []string{e1.Key()}) {
		t.Fatalf("keys %q, want only the leader's", ks)
	}
	if e2.Key() != "" {
		t.Fatalf("Key of a failed candidate: %q", e2.Key())
	}
	if err := e2.Campaign(ctx, "again"); err != concurrency.ErrSessionExpired {
		t.Fatalf("Campaign on an ended session: %v", err)
	}

	// A candidate whose context ends withdraws.
	e3 := concurrency.NewElection(e.session(t), pfx)
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := e3.Campaign(cctx, "impatient"); err != context.DeadlineExceeded {
		t.Fatalf("Campaign with an ending context: %v", err)
	}
	if ks := e.keys(t, pfx+"/"); !slices.Equal(ks, []string{e1.Key()}) {
		t.Fatalf("keys %q after a canceled campaign, want only the leader's", ks)
	}
}

// TestElectionKeyLostWhileWaiting deletes a waiting candidate's key behind
// its back (as an expiry the session has not noticed yet would): when the
// leader resigns, Campaign checks its key and returns ErrSessionExpired.
// The official Campaign, in the same situation, reports a leadership that
// has no key.
func TestElectionKeyLostWhileWaiting(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 60*time.Second)

	for _, official := range []bool{false, true} {
		pfx := fmt.Sprintf("election/lost-%v", official)
		e1 := concurrency.NewElection(e.session(t), pfx)
		if err := e1.Campaign(ctx, "leader"); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		if official {
			os, err := officialconc.NewSession(e.oracle)
			if err != nil {
				t.Fatal(err)
			}
			defer os.Close()
			oe := officialconc.NewElection(os, pfx)
			go func() { done <- oe.Campaign(ctx, "waiting") }()
		} else {
			e2 := concurrency.NewElection(e.session(t), pfx)
			go func() { done <- e2.Campaign(ctx, "waiting") }()
		}
		ks := e.waitKeys(t, pfx+"/", 2)
		if _, err := e.oracle.Delete(ctx, ks[1]); err != nil {
			t.Fatal(err)
		}
		pending(t, done, "Campaign")
		if err := e1.Resign(ctx); err != nil {
			t.Fatal(err)
		}
		err := result(t, done, 10*time.Second)
		if official {
			t.Logf("official Campaign with its key gone: %v", err)
			continue
		}
		if err != concurrency.ErrSessionExpired {
			t.Fatalf("Campaign with its key gone: %v, want ErrSessionExpired", err)
		}
	}
}

// TestElectionResignAfterLostProclaim: a leader whose lease was revoked
// learns it from Proclaim (ErrElectionNotLeader); a later Proclaim says the
// same and Resign does nothing, instead of sending a compare on an empty
// key (the server refuses it: "key is not provided").
func TestElectionResignAfterLostProclaim(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 30*time.Second)
	s := e.session(t)
	el := concurrency.NewElection(s, "election/lost")
	if err := el.Campaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	e.revoke(t, s)
	for i := range 2 {
		if err := el.Proclaim(ctx, "b"); !errors.Is(err, concurrency.ErrElectionNotLeader) {
			t.Fatalf("Proclaim %d after the lease was revoked: %v, want ErrElectionNotLeader", i+1, err)
		}
	}
	if el.Key() != "" {
		t.Fatalf("Key after a lost leadership: %q", el.Key())
	}
	if err := el.Resign(ctx); err != nil {
		t.Fatalf("Resign after a lost leadership: %v", err)
	}
}
