-- lock-job.lua: a job that must not run twice at once, behind a lock.
--
-- Shows: etcd.lock with a callback (released when it returns or raises), and
-- lock:guard() fencing the write, so a holder that lost its lock (lease
-- expired while it was paused) cannot write. The job is a read-modify-write
-- of a counter, repeated TIMES times: run several copies at once and the
-- counter still ends at copies x TIMES.
--
-- Run three at once:
--   for i in 1 2 3; do etcdscript run scripts/examples/lock-job.lua 5 & done; wait
--   etcdctl get jobs/counter
local times = tonumber((...) or 5)
local key = "jobs/counter"

for _ = 1, times do
  etcd.lock("locks/counter", {ttl = 10, timeout = 30}, function(lock)
    local kv = etcd.get(key)
    local n = kv and tonumber(kv.value) or 0
    local r = etcd.txn()
      :compare(lock:guard())
      :success(etcd.op.put(key, tostring(n + 1)))
      :commit()
    if not r.succeeded then error("lost the lock before writing " .. key) end
  end)
end
print("did " .. times .. " increments under the lock")
