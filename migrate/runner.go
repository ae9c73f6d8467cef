package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
)

// Runner applies the migrations of one directory to one migration set.
type Runner struct {
	cfg  Config
	keys keys
}

// New returns a Runner for cfg.
func New(cfg Config) (*Runner, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("%w: migrate: Config.Client is nil", client.ErrInvalidArgument)
	}
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: migrate: Config.Dir is empty", client.ErrInvalidArgument)
	}
	cfg = cfg.withDefaults()
	return &Runner{cfg: cfg, keys: keys{prefix: cfg.Prefix}}, nil
}

// snapshot is the state and history read at one revision.
type snapshot struct {
	state State
	token int64 // mod revision of the state key (0: none yet)
	rev   int64
	// history is the last run of each version, which says whether it is
	// applied; runs is every run, by version and run.
	history map[int64]*Record
	runs    []*Record
}

func (r *Runner) read(ctx context.Context) (*snapshot, error) {
	kv := r.cfg.Client.KV
	get, err := kv.Get(ctx, r.keys.state())
	if err != nil {
		return nil, fmt.Errorf("migrate: read state: %w", err)
	}
	s := &snapshot{rev: get.Header.Revision, history: map[int64]*Record{}}
	if len(get.Kvs) == 1 {
		s.token = get.Kvs[0].ModRevision
		if err := json.Unmarshal(get.Kvs[0].Value, &s.state); err != nil {
			return nil, fmt.Errorf("migrate: state at %s is not valid JSON: %w", r.keys.state(), err)
		}
	}
	hist, err := kv.Get(ctx, r.keys.historyPrefix(), client.WithPrefix(), client.WithRev(s.rev))
	if err != nil {
		return nil, fmt.Errorf("migrate: read history: %w", err)
	}
	// Keys sort by version, then run, so the last record of a version
	// read is its latest run.
	for _, h := range hist.Kvs {
		rec := new(Record)
		if err := json.Unmarshal(h.Value, rec); err != nil {
			return nil, fmt.Errorf("migrate: history record %s is not valid JSON: %w", h.Key, err)
		}
		v, run, err := r.keys.parseHistoryKey(string(h.Key))
		if err != nil {
			return nil, err
		}
		rec.Version, rec.Run, rec.key = v, run, string(h.Key)
		s.history[rec.Version] = rec
		s.runs = append(s.runs, rec)
	}
	return s, nil
}

// lock takes the migration lock: a mutex on a lease that expires LockTTL
// after this process stops renewing it.
func (r *Runner) lock(ctx context.Context) (*concurrency.Session, *concurrency.Mutex, error) {
	ttl := int(r.cfg.LockTTL / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	s, err := concurrency.NewSession(r.cfg.Client, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: lock session: %w", err)
	}
	m := concurrency.NewMutex(s, r.keys.lock())
	lctx, cancel := context.WithTimeout(ctx, r.cfg.LockTimeout)
	defer cancel()
	if err := m.Lock(lctx); err != nil {
		s.Close()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, refused("lock %s not acquired within %s: another runner holds it (a crashed runner's lock expires with its lease)", r.keys.lock(), r.cfg.LockTimeout)
		}
		return nil, nil, fmt.Errorf("migrate: lock: %w", err)
	}
	return s, m, nil
}

func unlock(s *concurrency.Session, m *concurrency.Mutex) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = m.Unlock(ctx)
	s.Close()
}

// plan is the validated view of files against the snapshot.
type plan struct {
	files   []File
	byVer   map[int64]File
	applied []int64
	pending []File
}

func (r *Runner) validate(files []File, s *snapshot) (*plan, error) {
	p := &plan{files: files, byVer: map[int64]File{}}
	for _, f := range files {
		p.byVer[f.Version] = f
	}
	if s.state.Dirty {
		return nil, refused("state is dirty: migration %d did not finish (%s); %s", s.state.InProgress, r.describe(s.state.InProgress, p), r.nextForDirty(s.state.InProgress))
	}
	versions := make([]int64, 0, len(s.history))
	for v := range s.history {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	for _, v := range versions {
		rec := s.history[v]
		if !rec.applied() {
			continue
		}
		p.applied = append(p.applied, v)
		f, ok := p.byVer[v]
		if !ok {
			if rec.Status == StatusBaselined {
				continue
			}
			return nil, refused("applied migration %d (%s) has no file in %s: restore it", v, rec.Name, r.cfg.Dir)
		}
		if rec.Checksum != "" && rec.Checksum != f.Checksum {
			return nil, refused("%s (version %d) changed after it was applied: recorded checksum %s, file checksum %s; revert the edit, or run `%s` if it was intended", f.Path, v, rec.Checksum, f.Checksum, r.command("repair"))
		}
	}
	for _, f := range files {
		if rec, ok := s.history[f.Version]; ok && rec.applied() {
			continue
		}
		if f.Version < s.state.Head && !r.cfg.AllowOutOfOrder {
			return nil, refused("%s (version %d) is pending but sorts below the head %d (merged late?); run `%s` to apply it", f.Path, f.Version, s.state.Head, r.command("up --allow-out-of-order"))
		}
		p.pending = append(p.pending, f)
	}
	return p, nil
}

func (r *Runner) describe(v int64, p *plan) string {
	if f, ok := p.byVer[v]; ok {
		return f.Path
	}
	return "no file"
}

func (r *Runner) nextForDirty(v int64) string {
	return fmt.Sprintf("check what it wrote, then run `%s` if it completed, or `%s` to mark it not applied (then fix it and run up again)",
		r.command(fmt.Sprintf("force %d", v)), r.command(fmt.Sprintf("force %d", v-1)))
}

// command is a command line to suggest: Config.Command, which carries the
// flags that locate this set, then args.
func (r *Runner) command(args string) string {
	return r.cfg.Command + " " + args
}

// newRecord starts the record of a new run of f: the run after the latest
// one in s.
func (r *Runner) newRecord(s *snapshot, f File, status, direction string) *Record {
	run := int64(1)
	if last := s.history[f.Version]; last != nil {
		run = last.Run + 1
	}
	return &Record{
		Version: f.Version, Run: run, Name: f.Name(), Checksum: f.Checksum, Status: status, Direction: direction,
		StartedAt: time.Now().UTC(), Host: r.cfg.Host, User: r.cfg.User, StartRevision: s.rev,
		key: r.keys.history(f.Version, run),
	}
}

func (r *Runner) stateOp(st State) client.Op {
	st.ToolVersion = r.cfg.ToolVersion
	return client.OpPut(r.keys.state(), encode(st))
}

// recordOp writes rec where it was read from, or at its run's key.
func (r *Runner) recordOp(rec *Record) client.Op {
	key := rec.key
	if key == "" {
		key = r.keys.history(rec.Version, rec.Run)
	}
	return client.OpPut(key, encode(rec))
}

// tokenCmp holds while nobody changed the state since it was read.
func (r *Runner) tokenCmp(s *snapshot) client.Cmp {
	return client.Compare(client.ModRevision(r.keys.state()), "=", s.token)
}

// commitBookkeeping writes state and history under the lock guard and the
// state token.
func (r *Runner) commitBookkeeping(ctx context.Context, m *concurrency.Mutex, s *snapshot, ops ...client.Op) (int64, error) {
	resp, err := r.cfg.Client.Txn(ctx).If(m.IsOwner(), r.tokenCmp(s)).Then(ops...).Commit()
	if err != nil {
		return 0, fmt.Errorf("migrate: write state: %w", err)
	}
	if !resp.Succeeded {
		return 0, refused("the lock was lost or the state at %s changed under this runner: nothing written", r.keys.state())
	}
	s.token = resp.Header.Revision
	return resp.Header.Revision, nil
}
