package migrate_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/migrate"
)

const revertible = `
return {
  up = function(m) m.put("v/%[1]d", "up") end,
  down = function(m) m.delete("v/%[1]d") end,
}
`

// checkRuns reads r's history and compares it, as
// "version/run:direction:status" words, with want; it returns the records.
func checkRuns(t *testing.T, e *env, r *migrate.Runner, want string) []migrate.Record {
	t.Helper()
	hist, err := r.History(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range hist {
		got = append(got, fmt.Sprintf("%d/%d:%s:%s", rec.Version, rec.Run, rec.Direction, rec.Status))
	}
	if g := strings.Join(got, " "); g != want {
		t.Errorf("history:\n got %s\nwant %s", g, want)
	}
	return hist
}

// TestEveryRunIsKept: up, down and up again, then force below the head,
// each leave a record of their own; force marks the version pending, not
// failed, and the run that applied it stays as it was.
func TestEveryRunIsKept(t *testing.T) {
	e := newEnv(t)
	for v := 1; v <= 3; v++ {
		e.write(fmt.Sprintf("%d_m.lua", v), fmt.Sprintf(revertible, v))
	}
	r, _ := e.runner(migrate.Config{})
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Down(e.ctx, migrate.DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Force(e.ctx, 2); err != nil {
		t.Fatal(err)
	}
	hist := checkRuns(t, e, r, "1/1:up:applied 2/1:up:applied 3/1:up:applied 3/2:down:reverted 3/3:up:applied 3/4:down:forced")
	for _, rec := range hist {
		if rec.User == "" || rec.Host == "" || rec.StartRevision == 0 {
			t.Errorf("run %d/%d lacks who ran it or its start revision: %+v", rec.Version, rec.Run, rec)
		}
		if rec.Status != migrate.StatusForced && rec.EndRevision < rec.StartRevision {
			t.Errorf("run %d/%d ends at revision %d, before its start %d", rec.Version, rec.Run, rec.EndRevision, rec.StartRevision)
		}
	}
	st, err := r.Status(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Head != 2 || st.Entries[2].Status != "pending" {
		t.Errorf("after force 2: head %d, 3 is %q; want head 2, 3 pending", st.Head, st.Entries[2].Status)
	}
	// Pending again: up applies it once more, as run 5.
	done, err := r.Up(e.ctx, migrate.UpOptions{})
	if err != nil || len(done) != 1 || done[0].Version != 3 {
		t.Fatalf("up after force: %v, %v", done, err)
	}
}

// TestHistoryOfEarlierReleasesIsRead: a record at history/<version>, the
// layout of releases with one record per version, counts as that
// version's run 0.
func TestHistoryOfEarlierReleasesIsRead(t *testing.T) {
	e := newEnv(t)
	e.write("1_a.lua", fmt.Sprintf(revertible, 1))
	e.write("2_b.lua", fmt.Sprintf(revertible, 2))
	files, err := migrate.LoadDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(migrate.Record{Version: 1, Name: "1_a.lua", Checksum: files[0].Checksum, Status: migrate.StatusApplied, Direction: "up", StartRevision: 1})
	e.put("/etcdscript/migrations/default/history/00000000000000000001", string(old))
	e.put("/etcdscript/migrations/default/state", `{"head":1,"dirty":false}`)
	r, _ := e.runner(migrate.Config{})
	done, err := r.Up(e.ctx, migrate.UpOptions{})
	if err != nil || len(done) != 1 || done[0].Version != 2 {
		t.Fatalf("up over an old history applied %v (%v), want 2 alone", done, err)
	}
	if _, err := r.Down(e.ctx, migrate.DownOptions{To: 0, All: true}); err != nil {
		t.Fatal(err)
	}
	checkRuns(t, e, r, "1/0:up:applied 2/1:up:applied 2/2:down:reverted 1/1:down:reverted")
}
