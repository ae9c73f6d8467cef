package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/migrate"
)

func TestChangedFileIsRefusedButLineEndingsAreNot(t *testing.T) {
	e := newEnv(t)
	src := fmt.Sprintf(counterMigration, 1)
	e.write("001_a.lua", src)
	r, _ := e.runner(migrate.Config{})
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	// CRLF line endings and a BOM only: not a change.
	e.write("001_a.lua", "\xEF\xBB\xBF"+strings.ReplaceAll(src, "\n", "\r\n"))
	e.write("002_b.lua", fmt.Sprintf(counterMigration, 2))
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatalf("line endings only were taken for a change: %v", err)
	}
	// A real edit is refused, naming file, version and both checksums.
	old := migrate.Checksum([]byte(src))
	edited := strings.Replace(src, "n + 1", "n + 2", 1)
	e.write("001_a.lua", edited)
	e.write("003_c.lua", fmt.Sprintf(counterMigration, 3))
	_, err := r.Up(e.ctx, migrate.UpOptions{})
	if !errors.Is(err, migrate.ErrRefused) {
		t.Fatalf("edited applied file: %v, want a refusal", err)
	}
	for _, want := range []string{"001_a.lua", "version 1", old, migrate.Checksum([]byte(edited))} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %q", err, want)
		}
	}
	if got := e.get("applied/3"); got != "<absent>" {
		t.Errorf("migration 3 ran despite the refusal")
	}
	st, err := r.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Clean || st.Entries[0].Status != "checksum-changed" || !strings.Contains(st.Next, "repair") {
		t.Errorf("status: %+v", st)
	}
	// repair records the intended edit; up goes on.
	fixed, err := r.Repair(e.ctx)
	if err != nil || len(fixed) != 1 || fixed[0] != 1 {
		t.Fatalf("repair: %v %v", fixed, err)
	}
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := e.get("applied/3"); got != "1" {
		t.Errorf("after repair, migration 3 ran %s times", got)
	}
}

func TestOutOfOrderVersionIsRefusedUnlessAllowed(t *testing.T) {
	e := newEnv(t)
	e.write("001_a.lua", fmt.Sprintf(counterMigration, 1))
	e.write("003_c.lua", fmt.Sprintf(counterMigration, 3))
	r, _ := e.runner(migrate.Config{})
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	e.write("002_b.lua", fmt.Sprintf(counterMigration, 2)) // merged late
	_, err := r.Up(e.ctx, migrate.UpOptions{})
	if !errors.Is(err, migrate.ErrRefused) || !strings.Contains(err.Error(), "002_b.lua") || !strings.Contains(err.Error(), "--allow-out-of-order") {
		t.Fatalf("late lower version: %v, want a refusal naming the file and the flag", err)
	}
	ra, _ := e.runner(migrate.Config{AllowOutOfOrder: true})
	done, err := ra.Up(e.ctx, migrate.UpOptions{})
	if err != nil || len(done) != 1 || done[0].Version != 2 {
		t.Fatalf("with AllowOutOfOrder: %v %v", done, err)
	}
	st, err := ra.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Head != 3 || !st.Clean {
		t.Errorf("after the late version: head %d clean %v, want head 3 and clean", st.Head, st.Clean)
	}
}

func TestAtomicMigrationWithChangedReadsCommitsNothing(t *testing.T) {
	e := newEnv(t)
	e.put("src/a", "1")
	e.put("src/b", "2")
	e.write("001_copy.lua", `
return {
  atomic = true,
  up = function(m)
    local r = m.range("src/", {prefix = true})
    for _, kv in ipairs(r.kvs) do m.put("dst/" .. kv.key:sub(5), kv.value) end
    m.put("copied", tostring(#r.kvs))
  end,
}`)
	// An executor that changes a key the migration read after it read it.
	meddle := &meddleExec{Executor: e.executor(e.cli, e.dir, new(bytes.Buffer)), env: e}
	r, _ := e.runner(migrate.Config{Exec: meddle})
	_, err := r.Up(e.ctx, migrate.UpOptions{})
	if !errors.Is(err, migrate.ErrConflict) || !strings.Contains(err.Error(), `"src/a"`) || !strings.Contains(err.Error(), "nothing was committed") {
		t.Fatalf("atomic with a changed read: %v, want a conflict naming src/a", err)
	}
	for _, k := range []string{"dst/a", "dst/b", "copied"} {
		if got := e.get(k); got != "<absent>" {
			t.Errorf("%s = %s after a failed atomic migration", k, got)
		}
	}
	st, err := r.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dirty || st.Head != 0 {
		t.Errorf("an atomic failure left state %+v", st)
	}
	// Without interference it commits all at once.
	r2, _ := e.runner(migrate.Config{})
	if _, err := r2.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if e.get("dst/a") != "changed" || e.get("dst/b") != "2" || e.get("copied") != "2" {
		t.Errorf("atomic commit: dst/a=%s dst/b=%s copied=%s", e.get("dst/a"), e.get("dst/b"), e.get("copied"))
	}
}

type meddleExec struct {
	migrate.Executor
	env *env
}

func (m *meddleExec) Run(ctx context.Context, mig *migrate.Migration, dir string, kv client.KV) error {
	if err := m.Executor.Run(ctx, mig, dir, kv); err != nil {
		return err
	}
	m.env.put("src/a", "changed") // between the migration's read and the commit
	return nil
}

func TestDryRunPlansAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.put("flags/x", "on")
	e.write("001_rename.lua", `
return {
  up = function(m)
    local kv = m.get("flags/x")
    m.put("flags/v2/x", kv.value)
    m.delete("flags/x")
    m.put("flags/new", "fresh")
  end,
}`)
	r, _ := e.runner(migrate.Config{})
	plan, err := r.Up(e.ctx, migrate.UpOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 {
		t.Fatalf("plan: %+v", plan)
	}
	got := map[string]string{}
	for _, w := range plan[0].Planned {
		old, nw := "<none>", "<deleted>"
		if w.Old != nil {
			old = *w.Old
		}
		if w.New != nil {
			nw = *w.New
		}
		got[w.Key] = old + " -> " + nw
	}
	want := map[string]string{"flags/v2/x": "<none> -> on", "flags/x": "on -> <deleted>", "flags/new": "<none> -> fresh"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("planned %s: %q, want %q", k, got[k], v)
		}
	}
	if e.get("flags/x") != "on" || e.get("flags/v2/x") != "<absent>" || e.get("flags/new") != "<absent>" {
		t.Error("the dry run changed etcd")
	}
	st, err := r.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Head != 0 || st.Entries[0].Status != "pending" {
		t.Errorf("the dry run changed the state: %+v", st)
	}
}

// TestLostLockCannotWrite simulates a stalled runner: its lock lease is
// revoked (as if it expired) while its migration runs; its next write is
// refused.
func TestLostLockCannotWrite(t *testing.T) {
	e := newEnv(t)
	e.write("001_slow.lua", `
return {
  up = function(m)
    m.put("before", "ok")
    m.put("after", "should not land")
  end,
}`)
	lose := &loseLockExec{Executor: e.executor(e.cli, e.dir, new(bytes.Buffer)), env: e}
	r, _ := e.runner(migrate.Config{Exec: lose})
	_, err := r.Up(e.ctx, migrate.UpOptions{})
	if !errors.Is(err, migrate.ErrLockLost) {
		t.Fatalf("write after losing the lock: %v, want ErrLockLost", err)
	}
	if e.get("before") != "ok" || e.get("after") != "<absent>" {
		t.Errorf("before=%s after=%s", e.get("before"), e.get("after"))
	}
}

// loseLockExec revokes the runner's lock lease just before the
// migration's second put, as if the runner had stalled past its TTL.
type loseLockExec struct {
	migrate.Executor
	env *env
}

func (l *loseLockExec) Run(ctx context.Context, mig *migrate.Migration, dir string, kv client.KV) error {
	return l.Executor.Run(ctx, mig, dir, &revokeOnSecondPut{KV: kv, env: l.env})
}

type revokeOnSecondPut struct {
	client.KV
	env  *env
	puts int
}

func (r *revokeOnSecondPut) Put(ctx context.Context, key, val string, opts ...client.OpOption) (*client.PutResponse, error) {
	r.puts++
	if r.puts == 2 {
		locks, err := r.env.cli.Get(ctx, "/etcdscript/migrations/default/lock", client.WithPrefix())
		if err != nil || len(locks.Kvs) == 0 {
			r.env.t.Fatalf("no lock key: %v", err)
		}
		if _, err := r.env.cli.Revoke(ctx, client.LeaseID(locks.Kvs[0].Lease)); err != nil {
			r.env.t.Fatal(err)
		}
	}
	return r.KV.Put(ctx, key, val, opts...)
}
