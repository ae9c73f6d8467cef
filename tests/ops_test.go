package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// The operations examples of scripts/examples, each run against a real
// three-member cluster.

// defragLog records, from the members' own logs, which member finished a
// defragmentation, in order.
type defragLog struct {
	obs *observer.ObservedLogs
}

func newDefragLog() (*defragLog, *zap.Logger) {
	core, obs := observer.New(zapcore.InfoLevel)
	return &defragLog{obs: obs}, zap.New(core)
}

// members returns the names of the members that finished defragmenting, in
// the order they did.
func (d *defragLog) members() []string {
	var out []string
	for _, e := range d.obs.FilterMessage("finished defragmenting directory").All() {
		out = append(out, strings.SplitN(e.LoggerName, ".", 2)[0])
	}
	return out
}

func memberName(cl *etcdtest.Cluster, id uint64) string {
	for _, m := range cl.Members() {
		if m.ID() == id {
			return m.Name()
		}
	}
	return fmt.Sprintf("%x", id)
}

func TestRollingDefrag(t *testing.T) {
	log, lg := newDefragLog()
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3, Logger: lg})
	leader := cl.WaitLeader(t)
	out := enginetest.Run(t, `
		-- Space to give back: values written, deleted and compacted away.
		local big = string.rep("x", 64 * 1024)
		for i = 1, 64 do etcd.put("fill/" .. i, big) end
		etcd.delete("fill/", {prefix = true})
		etcd.compact(etcd.put("fill/done", "1").revision, {physical = true})
	`, enginetest.WithCluster(cl)).MustSucceed(t)
	if got := log.members(); len(got) != 0 {
		t.Fatalf("defragmented before the script ran: %v", got)
	}

	// Refused while an alarm is raised: nothing is defragmented.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	alarm := &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: cl.Member(1).ID(), Alarm: pb.AlarmType_NOSPACE}
	if _, err := pb.NewMaintenanceClient(out.Client.ActiveConnection()).Alarm(ctx, alarm); err != nil {
		t.Fatal(err)
	}
	refused := enginetest.RunFile(t, "../scripts/examples/rolling-defrag.lua", enginetest.WithCluster(cl))
	se := refused.MustFail(t, 1)
	if se == nil || !strings.Contains(se.Error(), "not starting: alarm raised (NOSPACE on member") {
		t.Fatalf("refusal: %v", refused.Err)
	}
	if got := log.members(); len(got) != 0 {
		t.Fatalf("defragmented with an alarm raised: %v", got)
	}
	if _, err := out.Client.AlarmDisarm(ctx, &client.AlarmMember{}); err != nil {
		t.Fatal(err)
	}

	res := enginetest.RunFile(t, "../scripts/examples/rolling-defrag.lua", enginetest.WithCluster(cl)).MustSucceed(t)
	t.Logf("stdout:\n%s", res.Stdout)
	// From the members' side: each once, the leader last.
	got := log.members()
	if len(got) != 3 {
		t.Fatalf("members defragmented: %v, want each of the three once", got)
	}
	seen := map[string]bool{}
	for _, name := range got {
		if seen[name] {
			t.Fatalf("%s defragmented twice: %v", name, got)
		}
		seen[name] = true
	}
	// The script does whoever leads when its turn comes last; with no
	// election meanwhile, that is the leader from before the run.
	if now := cl.WaitLeader(t); now == leader && got[2] != leader.Name() {
		t.Errorf("defragmented %v, want the leader %s last", got, leader.Name())
	} else if now != leader {
		t.Logf("the leadership moved from %s to %s during the run", leader.Name(), now.Name())
	}
	// The script's own report says the same and shows the space given back.
	report := res.Result.Values[0].(map[string]any)["members"].([]any)
	for i, r := range report {
		m := r.(map[string]any)
		if m["name"] != got[i] {
			t.Errorf("report #%d is %v, the members' logs say %s", i+1, m["name"], got[i])
		}
		if (i == 2) != m["leader"].(bool) {
			t.Errorf("report #%d: leader = %v", i+1, m["leader"])
		}
		if before, after := m["db_size_before"].(int64), m["db_size_after"].(int64); after >= before {
			t.Errorf("%s: db size %d -> %d, want it smaller", m["name"], before, after)
		}
	}
	if !strings.Contains(res.Stdout, "done: 3 members defragmented, the leader last") {
		t.Errorf("stdout:\n%s", res.Stdout)
	}
}

func TestClusterReport(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	leader := cl.WaitLeader(t)
	res := enginetest.RunFile(t, "../scripts/examples/cluster-report.lua", enginetest.WithCluster(cl)).MustSucceed(t)
	t.Logf("stdout:\n%s", res.Stdout)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "ID  ") {
		t.Fatalf("want a header, 3 members, the leader and alarms:\n%s", res.Stdout)
	}
	for i, m := range cl.Members() {
		row := lines[i+1]
		f := strings.Fields(row)
		if len(f) < 3 || f[0] != fmt.Sprintf("%x", m.ID()) || f[1] != m.Name() || f[2] != m.ClientURL() || !strings.HasSuffix(row, " healthy") {
			t.Errorf("row %d: %q", i+1, row)
		}
		if strings.Contains(row, " * ") != (m == leader) {
			t.Errorf("row %d marks the leader wrongly (leader %s): %q", i+1, leader.Name(), row)
		}
	}
	if lines[4] != "leader: "+leader.Name() || lines[5] != "alarms: none" {
		t.Errorf("summary: %q", lines[4:])
	}
	report := res.Result.Values[0].(map[string]any)
	if report["leader"] != leader.Name() {
		t.Errorf("report leader %v", report["leader"])
	}
	ms := report["members"].([]any)
	if len(ms) != 3 {
		t.Fatalf("report members: %v", ms)
	}
	for _, m := range ms {
		e := m.(map[string]any)
		if e["healthy"] != true || e["db_size"].(int64) <= 0 || !strings.HasPrefix(e["version"].(string), "3.") {
			t.Errorf("report entry %v", e)
		}
	}

	// A member down is reported, with its error; the others are complete.
	if err := cl.Member(2).Stop(); err != nil {
		t.Fatal(err)
	}
	cl.WaitLeader(t)
	res = enginetest.RunFile(t, "../scripts/examples/cluster-report.lua", enginetest.WithCluster(cl),
		enginetest.WithConfig(func(c *engine.Config) { c.CallTimeout = 2 * time.Second })).MustSucceed(t)
	t.Logf("stdout:\n%s", res.Stdout)
	ms = res.Result.Values[0].(map[string]any)["members"].([]any)
	for i, m := range ms {
		e := m.(map[string]any)
		if (e["healthy"] == true) != (i < 2) {
			t.Errorf("member %d: %v", i, e)
		}
	}
	if e := ms[2].(map[string]any); e["error"] == nil || e["version"] != nil {
		t.Errorf("the stopped member's entry: %v", e)
	}
}

// TestLeaderElectionFenced runs scripts/examples/leader-election.lua as a
// long job and revokes its session's lease from outside: the job's next
// write is fenced (nothing is written after the revoke), on_lost runs, and
// the job stops by itself.
func TestLeaderElectionFenced(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	cli, err := enginetest.NewClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	var res *enginetest.Outcome
	wg.Add(1)
	go func() {
		defer wg.Done()
		// 1000 rounds of 50 ms: far more than the test waits for.
		res = enginetest.RunFile(t, "../scripts/examples/leader-election.lua", enginetest.WithCluster(cl),
			enginetest.WithArgs("job", "1000", "0.05", "5"))
	}()
	// Let it lead and write a few rounds.
	for {
		r, err := cli.Get(ctx, "election/log/job/", client.WithPrefix(), client.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if r.Count >= 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	lr, err := cli.Get(ctx, "election/leader/", client.WithPrefix())
	if err != nil || len(lr.Kvs) != 1 {
		t.Fatalf("the candidate's key: %v %v", lr, err)
	}
	rr, err := cli.Revoke(ctx, client.LeaseID(lr.Kvs[0].Lease))
	if err != nil {
		t.Fatal(err)
	}
	revoked := rr.Header.Revision
	wg.Wait()
	res.MustSucceed(t)
	t.Logf("stdout:\n%s", res.Stdout)
	if !strings.Contains(res.Stdout, "job lost the leadership: ") || !strings.Contains(res.Stdout, "job stopped") {
		t.Errorf("on_lost did not run or the job did not stop:\n%s", res.Stdout)
	}
	if strings.Contains(res.Stdout, "resigned") {
		t.Errorf("the job went on to the end:\n%s", res.Stdout)
	}
	after, err := cli.Get(ctx, "election/log/job/", client.WithPrefix(), client.WithMinCreateRev(revoked+1))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Kvs) != 0 {
		t.Errorf("%d rounds written after the lease was revoked (revision %d): first %s", len(after.Kvs), revoked, after.Kvs[0].Key)
	}
}

// TestObserveKeepsRunAlive: like a callback watch, an observer keeps the run
// going after the main chunk returns, until it ends.
func TestObserveKeepsRunAlive(t *testing.T) {
	res := enginetest.Run(t, `
		local e = etcd.election("obs/leader")
		e:campaign("a")
		e:observe(function(value)
			print("leader " .. value)
			return false
		end)
		print("main chunk done")
	`).MustSucceed(t)
	if res.Stdout != "main chunk done\nleader a\n" {
		t.Errorf("stdout %q", res.Stdout)
	}
}

// TestSnapshotSandbox: an embedded engine is sandboxed by default, and its
// scripts cannot write a snapshot; with NoSandbox they can.
func TestSnapshotSandbox(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	path := filepath.Join(t.TempDir(), "s.db")
	script := `
		local ok, err = pcall(etcd.snapshot, ...)
		if ok then return "written" end
		return err.code .. " " .. err.op
	`
	res := enginetest.Run(t, script, enginetest.WithCluster(cl), enginetest.WithArgs(path)).MustSucceed(t)
	if got := res.Result.Values[0]; got != "permission_denied etcd.snapshot" {
		t.Errorf("sandboxed: %v", got)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("sandboxed run wrote %s: %v", path, err)
	}
	res = enginetest.Run(t, script, enginetest.WithCluster(cl), enginetest.WithArgs(path),
		enginetest.WithConfig(func(c *engine.Config) { c.NoSandbox = true })).MustSucceed(t)
	if got := res.Result.Values[0]; got != "written" {
		t.Errorf("not sandboxed: %v", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("snapshot file: %v %v", fi, err)
	}
}
