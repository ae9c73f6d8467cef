-- rolling-defrag.lua: defragment every member of the cluster, one at a time,
-- the leader last.
--
-- Shows: etcd.members, etcd.status, etcd.health, etcd.alarms and
-- etcd.defragment (which waits as long as the member takes: it is not bound
-- by --command-timeout). A member serves nothing while it defragments, so
-- this goes member by member: before each one it checks that every member is
-- healthy and no alarm is raised, and it stops at the first problem. The
-- leader goes last (whoever leads when its turn comes), so that the cluster
-- keeps its leader while the followers are done. It refuses to start while
-- an alarm is raised: a NOSPACE alarm wants compaction and a look by an
-- operator first (then etcd.alarm_disarm).
--
-- Run (one endpoint is enough: the members are found from it):
--   etcdscript run --endpoints 10.0.0.1:2379 scripts/examples/rolling-defrag.lua [TIMEOUT]
--   etcdscript run -w json ... scripts/examples/rolling-defrag.lua   # the report as JSON
-- TIMEOUT bounds each member's defragmentation, in seconds (default: none).
local json = require("json")
local time = require("time")
local timeout = tonumber((...) or 0)

local function mib(n) return string.format("%.1f MiB", n / 1048576) end

local function check_alarms(when)
  local alarms = etcd.alarms()
  if #alarms > 0 then
    local names = {}
    for _, a in ipairs(alarms) do names[#names + 1] = a.alarm .. " on member " .. a.member_id end
    error(string.format("%s: alarm raised (%s); resolve it first", when, table.concat(names, ", ")), 0)
  end
end

local function check_health(todo, when)
  for _, m in ipairs(todo) do
    local h = etcd.health(m.endpoint)
    if not h.healthy then
      error(string.format("%s: member %s (%s) is not healthy: %s", when, m.name, m.endpoint,
        h.err and h.err.message or "?"), 0)
    end
  end
end

check_alarms("not starting")

-- Every member, by its first client URL.
local members = {}
for _, m in ipairs(etcd.members()) do
  if #m.client_urls == 0 then error("member " .. m.name .. " has no client URL (not started yet?)", 0) end
  members[#members + 1] = {id = m.id, name = m.name, endpoint = m.client_urls[1]}
end
check_health(members, "not starting")

-- The member to do next: any follower not done yet, else the leader.
local function next_member(done)
  local leader
  for _, m in ipairs(members) do
    if not done[m.id] then
      local st = etcd.status(m.endpoint)
      if st.member_id ~= st.leader then return m, st end
      leader = {m, st}
    end
  end
  if leader then return leader[1], leader[2] end
end

local done, report = {}, json.array({})
while true do
  local m, before = next_member(done)
  if not m then break end
  if #report > 0 then
    check_alarms("stopping before " .. m.name)
    check_health(members, "stopping before " .. m.name)
  end
  local was_leader = before.member_id == before.leader
  local start = time.now()
  etcd.defragment(m.endpoint, {timeout = timeout > 0 and timeout or nil})
  local took = time.now() - start
  local after = etcd.status(m.endpoint)
  done[m.id] = true
  report[#report + 1] = {
    name = m.name, id = m.id, endpoint = m.endpoint, leader = was_leader,
    db_size_before = before.db_size, db_size_after = after.db_size, took = took,
  }
  print(string.format("defragmented %s (%s)%s: %s -> %s in %.2fs", m.name, m.endpoint,
    was_leader and " [leader]" or "", mib(before.db_size), mib(after.db_size), took))
end
check_alarms("after the last member")
check_health(members, "after the last member")
print(string.format("done: %d members defragmented, the leader last", #report))
return {members = report}
