-- cluster-report.lua: one look at a cluster: its members, each member's
-- version, database size (and how much of it is in use), raft term and
-- index, health, which member leads, and the alarms raised.
--
-- Shows: etcd.members, etcd.status and etcd.health with an endpoint (each
-- talks to that member only), etcd.alarms, and a report printed as a table
-- and returned for -w json. A member that does not answer is reported with
-- its error; it does not stop the report.
--
-- Run (one endpoint is enough: the members are found from it):
--   etcdscript run --endpoints 10.0.0.1:2379 scripts/examples/cluster-report.lua
--   etcdscript run -w json --endpoints 10.0.0.1:2379 scripts/examples/cluster-report.lua
-- With -w json, stdout holds only the JSON report and the table goes to stderr.
local json = require("json")

local function size(n)
  if not n then return "-" end
  if n >= 1048576 then return string.format("%.1f MiB", n / 1048576) end
  return string.format("%.1f KiB", n / 1024)
end

local report = {members = json.array({}), alarms = json.array({}), leader = json.null}
local members = etcd.members()
table.sort(members, function(a, b) return a.name < b.name end)
for _, m in ipairs(members) do
  local entry = {id = m.id, name = m.name, endpoint = m.client_urls[1] or "", is_learner = m.is_learner}
  if entry.endpoint == "" then
    entry.error = "no client URL (not started yet?)"
  else
    local ok, st = pcall(etcd.status, entry.endpoint)
    if ok then
      entry.version = st.version
      entry.db_size = st.db_size
      entry.db_size_in_use = st.db_size_in_use
      entry.raft_term = st.raft_term
      entry.raft_index = st.raft_index
      entry.is_leader = st.member_id == st.leader
      if entry.is_leader then report.leader = m.name end
      local h = etcd.health(entry.endpoint)
      entry.healthy = h.healthy
      if h.err then entry.error = h.err.message end
    else
      entry.healthy = false
      entry.error = st.message or tostring(st)
    end
  end
  report.members[#report.members + 1] = entry
end
for _, a in ipairs(etcd.alarms()) do
  report.alarms[#report.alarms + 1] = {member_id = a.member_id, alarm = a.alarm}
end

-- The table.
local rows = {{"ID", "NAME", "ENDPOINT", "VERSION", "DB SIZE", "IN USE", "RAFT TERM", "RAFT INDEX", "LEADER", "HEALTH"}}
for _, e in ipairs(report.members) do
  rows[#rows + 1] = {
    e.id, e.name, e.endpoint, e.version or "-", size(e.db_size), size(e.db_size_in_use),
    tostring(e.raft_term or "-"), tostring(e.raft_index or "-"), e.is_leader and "*" or "",
    e.healthy and "healthy" or ("unhealthy: " .. (e.error or "?")),
  }
end
local widths = {}
for _, row in ipairs(rows) do
  for i, cell in ipairs(row) do widths[i] = math.max(widths[i] or 0, #cell) end
end
for _, row in ipairs(rows) do
  local cells = {}
  for i, cell in ipairs(row) do cells[i] = cell .. string.rep(" ", widths[i] - #cell) end
  print((table.concat(cells, "  "):gsub("%s+$", "")))
end
print("leader: " .. (report.leader ~= json.null and report.leader or "none"))
if #report.alarms == 0 then
  print("alarms: none")
else
  for _, a in ipairs(report.alarms) do print("alarm: " .. a.alarm .. " on member " .. a.member_id) end
end
return report
