package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
)

// UpOptions choose what Up applies.
type UpOptions struct {
	// To is the highest version to apply; 0 means all.
	To int64
	// DryRun runs each pending migration against a buffering facade and
	// reports its planned writes; nothing is committed and no lock is
	// taken.
	DryRun bool
}

// Applied is one migration Up or Down ran.
type Applied struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	// Revision is the etcd revision after it was recorded (0 in a dry run).
	Revision int64 `json:"revision,omitempty"`
	// Planned lists the writes of a dry run.
	Planned []PlannedWrite `json:"planned,omitempty"`
}

// Up applies the pending migrations in version order, each under the lock
// and fenced by it. Nothing to apply is not an error: it returns an empty
// list.
func (r *Runner) Up(ctx context.Context, opts UpOptions) ([]Applied, error) {
	return r.runAll(ctx, "up", opts.To, opts.DryRun, func(p *plan, _ *snapshot, _ map[int64]*Migration) ([]File, error) {
		var todo []File
		for _, f := range p.pending {
			if opts.To > 0 && f.Version > opts.To {
				break
			}
			todo = append(todo, f)
		}
		return todo, nil
	})
}

// runAll is the course Up and Down share: compile every file, then either
// plan (a dry run), or under the lock read and validate the state and run
// the migrations choose picks, one by one, in direction.
func (r *Runner) runAll(ctx context.Context, direction string, to int64, dry bool, choose func(*plan, *snapshot, map[int64]*Migration) ([]File, error)) ([]Applied, error) {
	files, err := LoadDir(r.cfg.Dir)
	if err != nil {
		return nil, err
	}
	migrations, err := r.loadAll(files)
	if err != nil {
		return nil, err
	}
	if dry {
		return r.dryRun(ctx, files, migrations, to, direction)
	}
	sess, m, err := r.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock(sess, m)
	s, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.validate(files, s)
	if err != nil {
		return nil, err
	}
	todo, err := choose(p, s, migrations)
	if err != nil {
		return nil, err
	}
	verb := "applying"
	if direction == "down" {
		verb = "reverting"
	}
	var done []Applied
	for _, f := range todo {
		fmt.Fprintf(r.cfg.Log, "%s %s\n", verb, f.Name())
		rev, err := r.apply(ctx, sess, m, s, migrations[f.Version], direction)
		if err != nil {
			return done, err
		}
		done = append(done, Applied{Version: f.Version, Name: f.Name(), Revision: rev})
	}
	return done, nil
}

// loadAll compiles every file before anything runs: a syntax error aborts
// with no writes.
func (r *Runner) loadAll(files []File) (map[int64]*Migration, error) {
	if r.cfg.Exec == nil {
		return nil, fmt.Errorf("%w: migrate: Config.Exec is nil", client.ErrInvalidArgument)
	}
	out := make(map[int64]*Migration, len(files))
	for _, f := range files {
		mig, err := r.cfg.Exec.Load(f)
		if err != nil {
			return nil, err
		}
		out[f.Version] = mig
	}
	return out, nil
}

// apply runs one migration in one direction and records it.
func (r *Runner) apply(ctx context.Context, sess *concurrency.Session, m *concurrency.Mutex, s *snapshot, mig *Migration, direction string) (int64, error) {
	f := mig.File
	rec := r.newRecord(s, f, StatusStarted, direction)
	// An out-of-order version applied below the head leaves the head.
	newHead := max(s.state.Head, f.Version)
	if direction == "down" {
		newHead = r.headBelow(s, f.Version)
	}
	if mig.Atomic {
		return r.applyAtomic(ctx, m, s, mig, direction, rec, newHead)
	}
	// 1. Mark dirty and record the start, fenced by lock and token.
	startRev, err := r.commitBookkeeping(ctx, m, s,
		r.stateOp(State{Head: s.state.Head, Dirty: true, InProgress: f.Version}), r.recordOp(rec))
	if err != nil {
		return 0, err
	}
	rec.StartRevision = startRev
	// 2. Run the migration through the fenced facade.
	runErr := r.cfg.Exec.Run(ctx, mig, direction, &fencedKV{KV: r.cfg.Client.KV, guard: []client.Cmp{m.IsOwner()}})
	rec.EndedAt = time.Now().UTC()
	if runErr != nil {
		rec.Status = StatusFailed
		rec.Error = runErr.Error()
		// Best effort: the state stays dirty whether or not this lands.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = r.commitBookkeeping(bctx, m, s, r.recordOp(rec))
		cancel()
		return 0, &FailedError{Version: f.Version, File: f.Path, Err: runErr, Next: "the state is dirty: " + r.nextForDirty(f.Version)}
	}
	// 3. Record success, with the revision its writes ended at.
	rec.Status = StatusApplied
	if direction == "down" {
		rec.Status = StatusReverted
	}
	end, err := r.cfg.Client.Get(ctx, r.keys.state())
	if err != nil {
		return 0, fmt.Errorf("migrate: read the revision after %s: %w", f.Name(), err)
	}
	rec.EndRevision = end.Header.Revision
	st := State{Head: newHead}
	rev, err := r.commitBookkeeping(ctx, m, s, r.stateOp(st), r.recordOp(rec))
	if err != nil {
		return 0, err
	}
	s.state = st
	s.history[f.Version] = rec
	return rev, nil
}

// recordRevisions sets the revisions of an atomic run once its one txn
// committed at rev. Best effort: the run is applied whether or not this
// lands.
func (r *Runner) recordRevisions(ctx context.Context, m *concurrency.Mutex, s *snapshot, rec *Record, rev int64) {
	rec.EndRevision = rev
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// The state goes with it: commitBookkeeping takes the txn's revision
	// as the state's new token.
	_, _ = r.commitBookkeeping(bctx, m, s, r.stateOp(s.state), r.recordOp(rec))
}

// applyAtomic runs up against a buffering facade and commits its writes and
// the bookkeeping in one txn, guarded by the lock, the state token and the
// mod revision of every key the migration read.
func (r *Runner) applyAtomic(ctx context.Context, m *concurrency.Mutex, s *snapshot, mig *Migration, direction string, rec *Record, newHead int64) (int64, error) {
	f := mig.File
	cur, err := r.cfg.Client.Get(ctx, r.keys.state())
	if err != nil {
		return 0, err
	}
	buf := newBufferedKV(r.cfg.Client.KV, cur.Header.Revision)
	rec.StartRevision = cur.Header.Revision // what it read
	if err := r.cfg.Exec.Run(ctx, mig, direction, buf); err != nil {
		return 0, &FailedError{Version: f.Version, File: f.Path, Err: err, Next: "atomic: nothing was committed; fix it and run up again"}
	}
	rec.Status = StatusApplied
	if direction == "down" {
		rec.Status = StatusReverted
	}
	rec.EndedAt = time.Now().UTC()
	st := State{Head: newHead}
	cmps, ops, err := buf.commitOps([]client.Cmp{m.IsOwner(), r.tokenCmp(s)}, []client.Op{r.stateOp(st), r.recordOp(rec)})
	if err != nil {
		return 0, &FailedError{Version: f.Version, File: f.Path, Err: err, Next: "nothing was committed; split the migration or make it non-atomic"}
	}
	resp, err := r.cfg.Client.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, &FailedError{Version: f.Version, File: f.Path, Err: err, Next: "atomic: the commit failed; check with `" + r.command("status") + "`"}
	}
	if !resp.Succeeded {
		key, kerr := buf.changedKey(ctx)
		reason := "the lock was lost or the migration state changed"
		if kerr == nil && key != "" {
			reason = fmt.Sprintf("key %q changed between read (revision %d) and commit", key, buf.rev)
		}
		return 0, &FailedError{Version: f.Version, File: f.Path, Err: fmt.Errorf("%w: %s", ErrConflict, reason), Next: "nothing was committed; run up again"}
	}
	s.token = resp.Header.Revision
	s.state = st
	s.history[f.Version] = rec
	r.recordRevisions(ctx, m, s, rec, resp.Header.Revision)
	return resp.Header.Revision, nil
}

// ErrConflict is wrapped when an atomic migration's reads changed before
// its commit.
var ErrConflict = errors.New("atomic migration conflict: nothing committed")

// headBelow is the highest applied version below v.
func (r *Runner) headBelow(s *snapshot, v int64) int64 {
	var head int64
	for ver, rec := range s.history {
		if ver < v && rec.applied() && ver > head {
			head = ver
		}
	}
	return head
}

func (r *Runner) dryRun(ctx context.Context, files []File, migrations map[int64]*Migration, to int64, direction string) ([]Applied, error) {
	s, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.validate(files, s)
	if err != nil {
		return nil, err
	}
	list := p.pending
	if direction == "down" {
		list = r.downList(p, s, to)
	}
	// One buffer for the whole run, so a later migration sees what an
	// earlier one would have written.
	buf := newBufferedKV(r.cfg.Client.KV, s.rev)
	var out []Applied
	for _, f := range list {
		if direction == "up" && to > 0 && f.Version > to {
			break
		}
		mig := migrations[f.Version]
		before := len(buf.order)
		if err := r.cfg.Exec.Run(ctx, mig, direction, buf); err != nil {
			return out, &FailedError{Version: f.Version, File: f.Path, Err: err, Next: "dry run: nothing was written"}
		}
		all := buf.planned()
		out = append(out, Applied{Version: f.Version, Name: f.Name(), Planned: all[before:]})
	}
	return out, nil
}
