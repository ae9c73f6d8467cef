package migrate

import (
	"context"

	"fmt"
	"github.com/etcdscript/etcdscript/client"
	"sort"
	"time"
)

// DownOptions choose what Down reverts.
type DownOptions struct {
	// To is the version to end at (it stays applied); 0 means one step
	// down.
	To int64
	// All reverts every applied migration.
	All bool
	// DryRun reports the planned writes and commits nothing.
	DryRun bool
}

// Down reverts applied migrations, highest first, with their down
// functions; a migration without one refuses.
func (r *Runner) Down(ctx context.Context, opts DownOptions) ([]Applied, error) {
	to := opts.To
	if opts.All {
		to = -1
	}
	return r.runAll(ctx, "down", to, opts.DryRun, func(p *plan, s *snapshot, migrations map[int64]*Migration) ([]File, error) {
		todo := r.downList(p, s, to)
		// Refuse before reverting anything when one of them cannot be.
		for _, f := range todo {
			if !migrations[f.Version].HasDown {
				return nil, refused("%s (version %d) has no down function", f.Path, f.Version)
			}
		}
		return todo, nil
	})
}

// downList is the applied migrations to revert, highest first: one step
// when to is 0, all above to when to > 0, all when to < 0.
func (r *Runner) downList(p *plan, s *snapshot, to int64) []File {
	var out []File
	for i := len(p.applied) - 1; i >= 0; i-- {
		v := p.applied[i]
		f, ok := p.byVer[v]
		if !ok {
			break // baselined without a file: nothing below can be reverted
		}
		if to > 0 && v <= to {
			break
		}
		out = append(out, f)
		if to == 0 {
			break
		}
	}
	return out
}

// Force records version v as the head without running anything, and clears
// a dirty state: the way out after a failed or interrupted migration, once
// someone has looked at what it wrote. A dirty migration at or below v is
// recorded as failed; each version up to v that was not applied gets a
// run forced up (applied), each one above v that was applied a run forced
// down (pending again). Earlier runs stay in the history as they were.
func (r *Runner) Force(ctx context.Context, v int64) error {
	if v < 0 {
		return refused("force: version %d is negative", v)
	}
	files, err := LoadDir(r.cfg.Dir)
	if err != nil {
		return err
	}
	byVer := map[int64]File{}
	for _, f := range files {
		byVer[f.Version] = f
	}
	if _, ok := byVer[v]; !ok && v != 0 {
		return refused("force: no migration file has version %d", v)
	}
	sess, m, err := r.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock(sess, m)
	s, err := r.read(ctx)
	if err != nil {
		return err
	}
	var recs []*Record
	now := time.Now().UTC()
	// Every version up to v with a file counts as applied, and none above
	// it. Each change is a run of its own, so that the runs before it
	// stay in the history as they were.
	for _, f := range files {
		rec := s.history[f.Version]
		if rec != nil && rec.Status == StatusStarted {
			// The run that left the state dirty never finished.
			cp := *rec
			cp.Status, cp.EndedAt = StatusFailed, now
			cp.Error = fmt.Sprintf("did not finish; the state was forced to %d", v)
			recs = append(recs, &cp)
		}
		var direction string
		switch {
		case f.Version <= v && (rec == nil || !rec.applied()):
			direction = "up"
		case f.Version > v && rec != nil && rec.applied():
			direction = "down"
		default:
			continue
		}
		nr := r.newRecord(s, f, StatusForced, direction)
		nr.EndedAt = now
		recs = append(recs, nr)
	}
	txnOps := []client.Op{r.stateOp(State{Head: v})}
	for _, rec := range recs {
		txnOps = append(txnOps, r.recordOp(rec))
	}
	_, err = r.commitBookkeeping(ctx, m, s, txnOps...)
	return err
}

// Repair re-records the checksums of applied migrations whose files were
// changed on purpose, so that up stops refusing them.
func (r *Runner) Repair(ctx context.Context) ([]int64, error) {
	files, err := LoadDir(r.cfg.Dir)
	if err != nil {
		return nil, err
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
	var fixed []int64
	var txnOps []client.Op
	for _, f := range files {
		rec := s.history[f.Version]
		if rec == nil || !rec.applied() || rec.Checksum == f.Checksum {
			continue
		}
		cp := *rec
		cp.Checksum = f.Checksum
		txnOps = append(txnOps, r.recordOp(&cp))
		fixed = append(fixed, f.Version)
	}
	if len(txnOps) == 0 {
		return nil, nil
	}
	_, err = r.commitBookkeeping(ctx, m, s, txnOps...)
	return fixed, err
}

// Baseline records every version up to v as baselined, for a cluster whose
// data already has what those migrations would do. It refuses once any
// migration was applied.
func (r *Runner) Baseline(ctx context.Context, v int64) error {
	files, err := LoadDir(r.cfg.Dir)
	if err != nil {
		return err
	}
	sess, m, err := r.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock(sess, m)
	s, err := r.read(ctx)
	if err != nil {
		return err
	}
	for ver, rec := range s.history {
		if rec.applied() {
			return refused("baseline: migration %d is already recorded as %s; baseline is for a set with no history", ver, rec.Status)
		}
	}
	txnOps := []client.Op{r.stateOp(State{Head: v})}
	now := time.Now().UTC()
	for _, f := range files {
		if f.Version > v {
			break
		}
		rec := r.newRecord(s, f, StatusBaselined, "up")
		rec.EndedAt = now
		txnOps = append(txnOps, r.recordOp(rec))
	}
	_, err = r.commitBookkeeping(ctx, m, s, txnOps...)
	return err
}

// Entry is one migration in a status report.
type Entry struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	// Status is applied, pending, dirty, failed, checksum-changed,
	// missing-file, baselined or forced.
	Status   string `json:"status"`
	Checksum string `json:"checksum,omitempty"`
	// RecordedChecksum is set when it differs from the file's.
	RecordedChecksum string    `json:"recorded_checksum,omitempty"`
	AppliedAt        time.Time `json:"applied_at,omitzero"`
}

// Report is what Status returns.
type Report struct {
	Set        string  `json:"set"`
	Prefix     string  `json:"prefix"`
	Head       int64   `json:"head"`
	Dirty      bool    `json:"dirty"`
	InProgress int64   `json:"in_progress,omitempty"`
	Entries    []Entry `json:"migrations"`
	// Clean is true when nothing is pending, dirty or changed.
	Clean bool `json:"clean"`
	// Next says what to run, when something needs doing.
	Next string `json:"next,omitempty"`
}

// Status compares the directory with the state in etcd. It takes no lock
// and writes nothing.
func (r *Runner) Status(ctx context.Context) (*Report, error) {
	files, err := LoadDir(r.cfg.Dir)
	if err != nil {
		return nil, err
	}
	s, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Set: r.cfg.Set, Prefix: r.cfg.Prefix, Head: s.state.Head, Dirty: s.state.Dirty, InProgress: s.state.InProgress, Clean: !s.state.Dirty}
	seen := map[int64]bool{}
	pending := 0
	for _, f := range files {
		seen[f.Version] = true
		e := Entry{Version: f.Version, Name: f.Name(), Checksum: f.Checksum, Status: "pending"}
		if rec := s.history[f.Version]; rec != nil {
			switch {
			case s.state.Dirty && s.state.InProgress == f.Version:
				e.Status = "dirty"
			case rec.applied() && rec.Checksum != "" && rec.Checksum != f.Checksum:
				e.Status, e.RecordedChecksum = "checksum-changed", rec.Checksum
			case rec.applied():
				e.Status, e.AppliedAt = rec.Status, rec.EndedAt
			case rec.Status == StatusFailed:
				e.Status = "failed"
			}
		} else if s.state.Dirty && s.state.InProgress == f.Version {
			e.Status = "dirty"
		}
		switch e.Status {
		case "pending", "failed":
			pending++
			rep.Clean = false
		case "checksum-changed":
			rep.Clean = false
		}
		rep.Entries = append(rep.Entries, e)
	}
	for v, rec := range s.history {
		if !seen[v] && rec.applied() && rec.Status != StatusBaselined {
			rep.Entries = append(rep.Entries, Entry{Version: v, Name: rec.Name, Status: "missing-file", RecordedChecksum: rec.Checksum})
			rep.Clean = false
		}
	}
	sort.Slice(rep.Entries, func(i, j int) bool { return rep.Entries[i].Version < rep.Entries[j].Version })
	switch {
	case s.state.Dirty:
		rep.Next = fmt.Sprintf("migration %d is dirty: %s", s.state.InProgress, r.nextForDirty(s.state.InProgress))
	case pending > 0:
		rep.Next = "run `" + r.command("up") + "`"
	}
	for _, e := range rep.Entries {
		if e.Status == "checksum-changed" {
			rep.Next = fmt.Sprintf("%s changed after it was applied: revert it, or run `%s`", e.Name, r.command("repair"))
		}
	}
	return rep, nil
}

// History returns the record of every run ever started, in the order they
// started (by etcd revision), records of earlier releases included.
func (r *Runner) History(ctx context.Context) ([]Record, error) {
	s, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(s.runs))
	for _, rec := range s.runs {
		out = append(out, *rec)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.StartRevision != b.StartRevision {
			return a.StartRevision < b.StartRevision
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Run < b.Run
	})
	return out, nil
}
