-- leader-election.lua: a worker that does its rounds only while it leads.
--
-- Shows: etcd.election (campaign, proclaim, resign), a lease-backed session
-- that a crashed leader loses by itself, and a bounded run. Start several
-- workers: one leads and does ROUNDS rounds of work (appending to
-- election/log), then resigns, and the next one takes over.
--
-- Run two workers:
--   etcdscript run scripts/examples/leader-election.lua worker-a 3 &
--   etcdscript run scripts/examples/leader-election.lua worker-b 3
local time = require("time")
local name, rounds = ...
name = name or "worker"
rounds = tonumber(rounds or 3)

local e = etcd.election("election/leader", {ttl = 10})
e:campaign(name, {timeout = 60})
print(name .. " leads")
for i = 1, rounds do
  -- Work a leader does: one log entry per round, in order.
  local r = etcd.put(string.format("election/log/%s/%d", name, i), name)
  e:proclaim(name .. " round " .. i)
  print(string.format("%s round %d (revision %d)", name, i, r.revision))
  time.sleep(0.05)
end
e:resign()
print(name .. " resigned")
