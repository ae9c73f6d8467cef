package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/migrate"
)

const counterMigration = `
return {
  description = "count applications",
  up = function(m)
    local kv = m.get("applied/%[1]d")
    local n = kv and tonumber(kv.value) or 0
    m.put("applied/%[1]d", tostring(n + 1))
  end,
}
`

func TestTwoRunnersApplyEachMigrationOnce(t *testing.T) {
	e := newEnv(t)
	for v := 1; v <= 5; v++ {
		e.write(fmt.Sprintf("%03d_m%d.lua", v, v), fmt.Sprintf(counterMigration, v))
	}
	r1, _ := e.runner(migrate.Config{})
	r2, _ := e.runner(migrate.Config{})
	var wg sync.WaitGroup
	results := make([][]migrate.Applied, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i, r := range []*migrate.Runner{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = r.Up(e.ctx, migrate.UpOptions{})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("runner %d: %v", i, err)
		}
	}
	if got := len(results[0]) + len(results[1]); got != 5 {
		t.Fatalf("the runners applied %d migrations between them, want 5 (%v / %v)", got, results[0], results[1])
	}
	for v := 1; v <= 5; v++ {
		if got := e.get(fmt.Sprintf("applied/%d", v)); got != "1" {
			t.Errorf("migration %d ran %s times", v, got)
		}
	}
	st, err := r1.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Clean || st.Head != 5 {
		t.Errorf("status after both runners: clean=%v head=%d, want clean head 5", st.Clean, st.Head)
	}
}

func TestNothingToApply(t *testing.T) {
	e := newEnv(t)
	e.write("001_a.lua", fmt.Sprintf(counterMigration, 1))
	r, _ := e.runner(migrate.Config{})
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	done, err := r.Up(e.ctx, migrate.UpOptions{})
	if err != nil || len(done) != 0 {
		t.Fatalf("second up: %v, %v; want nothing applied and no error", done, err)
	}
}

// crashExec runs the real executor, and in the middle of the named
// migration closes the runner's client, as a killed process would stop.
type crashExec struct {
	migrate.Executor
	version int64
	cli     *client.Client
}

func (c *crashExec) Run(ctx context.Context, m *migrate.Migration, dir string, kv client.KV) error {
	if m.File.Version == c.version {
		if _, err := kv.Put(ctx, "crash/half", "written"); err != nil {
			return err
		}
		c.cli.Close()
		return errors.New("killed")
	}
	return c.Executor.Run(ctx, m, dir, kv)
}

func TestKilledRunnerLeavesDirtyStateAndForceRecovers(t *testing.T) {
	e := newEnv(t)
	e.write("001_a.lua", fmt.Sprintf(counterMigration, 1))
	e.write("002_b.lua", fmt.Sprintf(counterMigration, 2))
	e.write("003_c.lua", fmt.Sprintf(counterMigration, 3))

	victim, err := client.New(client.Config{Endpoints: e.cl.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	crash := &crashExec{Executor: e.executor(victim, e.dir, &out), version: 2, cli: victim}
	r, _ := e.runner(migrate.Config{Client: victim, Exec: crash, LockTTL: time.Second})
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err == nil {
		t.Fatal("the killed run reported success")
	}

	// A fresh runner sees the dirty state, names the migration and what
	// to run next, and refuses to go on.
	r2, _ := e.runner(migrate.Config{})
	st, err := r2.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Dirty || st.InProgress != 2 {
		t.Fatalf("status: dirty=%v in_progress=%d, want dirty at 2", st.Dirty, st.InProgress)
	}
	if !strings.Contains(st.Next, "force 2") || !strings.Contains(st.Next, "force 1") {
		t.Errorf("status does not say what to run next: %q", st.Next)
	}
	_, err = r2.Up(e.ctx, migrate.UpOptions{})
	var re *migrate.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "dirty") {
		t.Fatalf("up on a dirty state: %v, want a refusal naming the dirty state", err)
	}
	// Someone checked: migration 2 half-ran; mark it not applied and
	// re-run it.
	if err := r2.Force(e.ctx, 1); err != nil {
		t.Fatal(err)
	}
	done, err := r2.Up(e.ctx, migrate.UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || done[0].Version != 2 || done[1].Version != 3 {
		t.Fatalf("after force 1, up applied %v, want 2 and 3", done)
	}
	st, err = r2.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Clean || st.Head != 3 {
		t.Fatalf("after recovery: clean=%v head=%d", st.Clean, st.Head)
	}
}
