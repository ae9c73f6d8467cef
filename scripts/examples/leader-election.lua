-- leader-election.lua: a periodic job that only the elected leader runs, and
-- that stops acting the moment it loses the leadership.
--
-- Shows: etcd.election with on_lost (runs at a dispatch point, here inside
-- time.sleep, when the session's lease expires, is revoked or cannot be
-- renewed), e:guard() fencing each write in a txn, so that a leader that lost
-- its lease cannot write even before on_lost has run, and e:proclaim and
-- e:resign. Start several workers: one leads and does ROUNDS rounds of work
-- (one entry under election/log/ per round, every INTERVAL seconds), then
-- resigns, and the next one takes over. A leader whose lease is lost (a long
-- pause, a partition, `etcdctl lease revoke`) stops at once and says so.
--
-- Run two workers:
--   etcdscript run scripts/examples/leader-election.lua worker-a 3 &
--   etcdscript run scripts/examples/leader-election.lua worker-b 3
-- Arguments: NAME (default worker), ROUNDS (default 3), INTERVAL in seconds
-- (default 0.05), TTL of the session's lease in seconds (default 10).
local time = require("time")
local name, rounds, interval, ttl = ...
name = name or "worker"
rounds = tonumber(rounds or 3)
interval = tonumber(interval or 0.05)
ttl = tonumber(ttl or 10)

local lost = nil
local e = etcd.election("election/leader", {
  ttl = ttl,
  on_lost = function(err)
    lost = err
    print(name .. " lost the leadership: " .. err.message)
  end,
})
e:campaign(name, {timeout = 60})
print(name .. " leads")

for i = 1, rounds do
  if lost then break end
  -- The work a leader does: one log entry per round, written only while
  -- this candidate's key still holds the leadership.
  local r = etcd.txn()
    :compare(e:guard())
    :success(etcd.op.put(string.format("election/log/%s/%d", name, i), name))
    :commit()
  if not r.succeeded then
    print(string.format("%s round %d not written: no longer the leader", name, i))
    break
  end
  e:proclaim(name .. " round " .. i)
  print(string.format("%s round %d (revision %d)", name, i, r.revision))
  time.sleep(interval) -- on_lost runs here if the lease is lost meanwhile
end

if lost or not e:is_leader() then
  -- Wait (at most a TTL) for on_lost, which says why the leadership went.
  local deadline = time.now() + ttl
  while not lost and time.now() < deadline do time.sleep(0.1) end
  print(name .. " stopped")
  os.exit(lost and 0 or 1)
end
e:resign()
print(name .. " resigned")
