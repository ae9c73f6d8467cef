package bindings_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	bolt "go.etcd.io/bbolt"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	etcdutl "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestClusterCalls runs the cluster and maintenance calls against a real
// three-member cluster: their shapes, alarms raised and disarmed, hashes
// that agree, a snapshot, and status and health with one member stopped.
func TestClusterCalls(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	newClusterEnv := func(t *testing.T, callTimeout time.Duration) *env {
		e := newEnv(t, "bt/cluster/", envOptions{cluster: cl, callTimeout: callTimeout})
		ids := e.L.NewTable()
		for _, m := range cl.Members() {
			ids.Append(lua.LString(strconv.FormatUint(m.ID(), 16)))
		}
		e.L.SetGlobal("MEMBER_IDS", ids)
		return e
	}

	t.Run("shapes", func(t *testing.T) {
		e := newClusterEnv(t, 0)
		defer e.close()
		e.run(t, `
			local eps = etcd.endpoints()
			assert.eq(eps, ENDPOINTS)
			local ms = etcd.members()
			assert.eq(#ms, 3)
			local byID = {}
			for i, m in ipairs(ms) do
				assert.match(m.id, "^[0-9a-f]+$")
				assert.eq(m.id:sub(1, 1) ~= "0", true, "unpadded")
				byID[m.id] = m
				assert.match(m.name, "^m%d$")
				assert.eq(#m.peer_urls, 1)
				assert.eq(#m.client_urls, 1)
				assert.eq(m.is_learner, false)
			end
			for i, id in ipairs(MEMBER_IDS) do
				assert.truthy(byID[id], "member " .. id .. " listed")
				assert.eq(byID[id].name, "m" .. (i - 1))
			end

			local st = etcd.status()
			assert.eq(#st, 3)
			local leaders = 0
			for i, s in ipairs(st) do
				assert.eq(s.endpoint, ENDPOINTS[i])
				assert.eq(s.err, nil)
				assert.eq(s.member_id, MEMBER_IDS[i])
				assert.eq(s.leader, st[1].leader)
				assert.match(s.version, "^3%.%d+%.%d+")
				assert.truthy(s.db_size > 0 and s.db_size_in_use > 0 and s.db_size_in_use <= s.db_size)
				assert.truthy(s.raft_term >= 1 and s.raft_index >= 1 and s.raft_applied_index >= 1)
				assert.eq(s.is_learner, false)
				assert.eq(#s.errors, 0)
				if s.member_id == s.leader then leaders = leaders + 1 end
			end
			assert.eq(leaders, 1, "one member is its own leader")
			-- A member's client URL is as good as a configured endpoint.
			assert.eq(etcd.status(ms[1].client_urls[1]).member_id, ms[1].id)
			local one = etcd.status(ENDPOINTS[2])
			assert.eq(one.endpoint, ENDPOINTS[2])
			assert.eq(one.member_id, MEMBER_IDS[2])

			local hs = etcd.health()
			assert.eq(#hs, 3)
			for i, h in ipairs(hs) do
				assert.eq(h.endpoint, ENDPOINTS[i])
				assert.eq(h.healthy, true)
				assert.eq(h.err, nil)
				assert.truthy(type(h.took) == "number" and h.took >= 0 and h.took < 20)
			end
			assert.eq(etcd.health(ENDPOINTS[3], {serializable = true}).healthy, true)
			assert.eq(#etcd.health({serializable = true}), 3)
			assert.eq(#etcd.health(nil, {serializable = true}), 3)

			assert.eq(etcd.alarms(), {})
			assert.eq(etcd.alarm_disarm(), {})

			-- Members that agree hash alike at the same revision.
			local rev = etcd.put(PREFIX .. "h", "1").revision
			for i = 1, 3 do -- a linearizable read: each member has applied rev
				local c = etcd.connect{endpoints = {ENDPOINTS[i]}}
				c:get(PREFIX .. "h")
				c:close()
			end
			local h1 = etcd.hash_kv(ENDPOINTS[1], rev)
			assert.eq(h1.hash_revision, rev)
			assert.truthy(type(h1.hash) == "number" and h1.compact_revision >= -1, "compact_revision (-1: never compacted)")
			for i = 2, 3 do
				assert.eq(etcd.hash_kv(ENDPOINTS[i], rev).hash, h1.hash, "member " .. i)
			end
			local hl = etcd.hash_kv(ENDPOINTS[1]); assert.truthy(hl.hash_revision >= rev, "hash_revision " .. hl.hash_revision .. " rev " .. rev)

			assert.eq(select("#", etcd.defragment(ENDPOINTS[1])), 0)
			etcd.defragment(ENDPOINTS[2], {timeout = 30})

			-- The same calls as methods of a client object, which asks
			-- its own endpoints.
			local c = etcd.connect{endpoints = {ENDPOINTS[3]}}
			assert.eq(c:endpoints(), {ENDPOINTS[3]})
			local cs = c:status()
			assert.eq(#cs, 1)
			assert.eq(cs[1].member_id, MEMBER_IDS[3])
			assert.eq(#c:members(), 3)
			assert.eq(c:health()[1].healthy, true)
			assert.eq(c:alarms(), {})
			assert.eq(c:hash_kv(ENDPOINTS[1], rev).hash, h1.hash)
			c:close()
		`)
	})

	t.Run("bad arguments", func(t *testing.T) {
		e := newClusterEnv(t, 0)
		defer e.close()
		e.run(t, `
			local function bad(fn, pattern)
				local err = assert.error(fn, "invalid_argument")
				if pattern then assert.match(err.message, pattern) end
				return err
			end
			bad(function() etcd.status(1) end, "endpoint")
			bad(function() etcd.status("") end, "endpoint")
			bad(function() etcd.members(1) end)
			bad(function() etcd.defragment() end, "endpoint")
			bad(function() etcd.defragment(ENDPOINTS[1], {timout = 1}) end, "did you mean \"timeout\"")
			bad(function() etcd.hash_kv(ENDPOINTS[1], -1) end, "rev")
			bad(function() etcd.alarm_disarm({alarm = "LOUD"}) end, "NOSPACE")
			bad(function() etcd.alarm_disarm({member_id = "xyz"}) end, "member_id")
			bad(function() etcd.health(ENDPOINTS[1], {linearizable = true}) end, "linearizable")
			bad(function() etcd.snapshot() end, "path")
			local err = bad(function() etcd.snapshot("x.db", {endpoint = 3}) end, "endpoint")
			assert.eq(err.op, "etcd.snapshot")
			-- Endpoints outside the cluster are refused before anything is
			-- sent there: the calls carry the client's credentials.
			for _, call in ipairs({
				function() etcd.status("127.0.0.1:1") end,
				function() etcd.health("http://127.0.0.1:1") end,
				function() etcd.defragment("127.0.0.1:1") end,
				function() etcd.hash_kv("127.0.0.1:1") end,
				function() etcd.snapshot("x.db", {endpoint = "127.0.0.1:1"}) end,
			}) do
				bad(call, "not an endpoint of this cluster")
			end
			-- A method called with a dot names the mistake.
			local c = etcd.connect{endpoints = ENDPOINTS}
			bad(function() c.status() end, "method")
			c:close()
		`)
	})

	t.Run("alarms", func(t *testing.T) {
		e := newClusterEnv(t, 0)
		defer e.close()
		// Scripts cannot raise an alarm; the API can.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		mc := pb.NewMaintenanceClient(e.cli.ActiveConnection())
		for _, m := range cl.Members()[:2] {
			if _, err := mc.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: m.ID(), Alarm: pb.AlarmType_NOSPACE}); err != nil {
				t.Fatal(err)
			}
		}
		e.run(t, `
			local as = etcd.alarms()
			assert.eq(#as, 2)
			local seen = {}
			for _, a in ipairs(as) do
				assert.eq(a.alarm, "NOSPACE")
				seen[a.member_id] = true
			end
			assert.truthy(seen[MEMBER_IDS[1]] and seen[MEMBER_IDS[2]])
			for _, h in ipairs(etcd.health()) do
				assert.eq(h.healthy, false, h.endpoint)
				assert.match(h.err.message, "alarm.*NOSPACE")
				assert.eq(h.err.op, "etcd.health")
			end
			-- One member's alarm, then the rest.
			local d = etcd.alarm_disarm({member_id = MEMBER_IDS[1], alarm = "NOSPACE"})
			assert.eq(d, {{member_id = MEMBER_IDS[1], alarm = "NOSPACE"}})
			assert.eq(etcd.alarms(), {{member_id = MEMBER_IDS[2], alarm = "NOSPACE"}})
			assert.eq(etcd.alarm_disarm({member_id = MEMBER_IDS[1]}), {}, "nothing left to disarm there")
			assert.eq(etcd.alarm_disarm(), {{member_id = MEMBER_IDS[2], alarm = "NOSPACE"}})
			assert.eq(etcd.alarms(), {})
			for _, h in ipairs(etcd.health()) do assert.eq(h.healthy, true, h.endpoint) end
		`)
	})

	t.Run("snapshot", func(t *testing.T) {
		e := newClusterEnv(t, 0)
		defer e.close()
		dir := t.TempDir()
		e.L.SetGlobal("DIR", lua.LString(dir))
		e.run(t, `
			local rev = etcd.put(PREFIX .. "snap", "in the snapshot").revision
			-- A follower may not have applied the put yet: a linearizable
			-- read on each member snapshotted waits until it has.
			for i = 1, 2 do
				local c = etcd.connect{endpoints = {ENDPOINTS[i]}}
				assert.truthy(c:get(PREFIX .. "snap"))
				c:close()
			end
			local s = etcd.snapshot(DIR .. "/one.db", {endpoint = ENDPOINTS[2]})
			assert.eq(s.path, DIR .. "/one.db")
			assert.eq(s.endpoint, ENDPOINTS[2])
			assert.truthy(s.size > 0)
			assert.truthy(s.revision >= rev, "snapshot revision " .. s.revision .. " rev " .. rev)
			local any = etcd.snapshot(DIR .. "/any.db")
			assert.truthy(any.size > 0)
			local err = assert.error(function() etcd.snapshot(DIR .. "/no/such/dir/x.db") end, "io_error")
			assert.match(err.message, "x.db.part")
			SIZE = s.size
		`)
		if _, err := os.Stat(filepath.Join(dir, "one.db.part")); !os.IsNotExist(err) {
			t.Errorf("one.db.part left behind: %v", err)
		}
		checkSnapshot(t, filepath.Join(dir, "one.db"), int64(e.global("SIZE").(lua.LNumber)), "bt/cluster/snap", "in the snapshot")
		checkSnapshot(t, filepath.Join(dir, "any.db"), -1, "bt/cluster/snap", "in the snapshot")
	})

	t.Run("snapshot refused in the sandbox", func(t *testing.T) {
		e := newClusterEnv(t, 0)
		defer e.close()
		e.rt.Sandbox = true
		dir := t.TempDir()
		e.L.SetGlobal("DIR", lua.LString(dir))
		e.run(t, `
			local err = assert.error(function() etcd.snapshot(DIR .. "/s.db") end, "permission_denied")
			assert.eq(err.op, "etcd.snapshot")
			assert.match(tostring(err), "^etcd.snapshot: .*sandbox")
		`)
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("the sandboxed run wrote %v", ents)
		}
	})

	// Last: it stops a member.
	t.Run("one member stopped", func(t *testing.T) {
		e := newClusterEnv(t, 2*time.Second)
		defer e.close()
		if err := cl.Member(2).Stop(); err != nil {
			t.Fatal(err)
		}
		cl.WaitLeader(t)
		e.run(t, `
			local st = etcd.status()
			assert.eq(#st, 3)
			for i = 1, 2 do
				assert.eq(st[i].err, nil, tostring(st[i].err))
				assert.eq(st[i].member_id, MEMBER_IDS[i])
				assert.truthy(st[i].db_size > 0)
			end
			local down = st[3]
			assert.eq(down.endpoint, ENDPOINTS[3])
			assert.eq(down.version, nil)
			assert.truthy(down.err, "the stopped member's entry has err")
			assert.eq(down.err.op, "etcd.status")
			assert.truthy(down.err.code == "unavailable" or down.err.code == "deadline_exceeded", down.err.code)
			assert.match(down.err.message, ENDPOINTS[3]:gsub("%.", "%%."))

			local hs = etcd.health()
			assert.eq(hs[1].healthy, true)
			assert.eq(hs[2].healthy, true)
			assert.eq(hs[3].healthy, false)
			assert.truthy(hs[3].err)

			local err = assert.error(function() etcd.status(ENDPOINTS[3]) end)
			assert.eq(err.op, "etcd.status")
			assert.eq(etcd.health(ENDPOINTS[3]).healthy, false)
		`)
	})
}

// checkSnapshot restores a snapshot file with etcd's own restore
// (etcdutl's snapshot package, as `etcdutl snapshot restore` does: it
// checks the SHA-256 at the file's end and builds a member's data
// directory from it), then opens the restored backend with bbolt and finds
// key with value in its key bucket. size < 0 skips the size check.
func checkSnapshot(t *testing.T, path string, size int64, key, value string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if size >= 0 && fi.Size() != size {
		t.Errorf("%s: %d bytes, the call said %d", path, fi.Size(), size)
	}
	dataDir := filepath.Join(t.TempDir(), "restored")
	err = etcdutl.NewV3(zap.NewNop()).Restore(etcdutl.RestoreConfig{
		SnapshotPath:        path,
		Name:                "restored",
		OutputDataDir:       dataDir,
		PeerURLs:            []string{"http://127.0.0.1:2380"},
		InitialCluster:      "restored=http://127.0.0.1:2380",
		InitialClusterToken: "restore-test",
	})
	if err != nil {
		t.Fatalf("%s: etcd's snapshot restore: %v", path, err)
	}
	db := filepath.Join(dataDir, "member", "snap", "db")
	bdb, err := bolt.Open(db, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("%s: bbolt: %v", path, err)
	}
	defer bdb.Close()
	found := false
	err = bdb.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("key"))
		if bk == nil {
			t.Fatalf("%s: no key bucket", path)
		}
		return bk.ForEach(func(_, v []byte) error {
			var kv mvccpb.KeyValue
			if err := proto.Unmarshal(v, &kv); err != nil {
				return err
			}
			if string(kv.Key) == key && string(kv.Value) == value {
				found = true
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Errorf("%s: %q = %q not in the snapshot", path, key, value)
	}
}
