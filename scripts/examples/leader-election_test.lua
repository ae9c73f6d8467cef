-- Tests of leader-election.lua: the job leads, writes one fenced entry per
-- round, proclaims its progress and resigns. (tests/ops_test.go revokes
-- a leader's lease from outside and checks that its next write is fenced.)
local here = arg[0]:match("^(.*/)") or ""
local job = assert(loadfile(here .. "leader-election.lua"))

test("the leader writes one entry per round, then resigns", function()
  job("worker-a", "3", "0.01")
  for i = 1, 3 do
    assert.eq(etcd.get("election/log/worker-a/" .. i).value, "worker-a")
  end
  assert.falsy(etcd.get("election/log/worker-a/4"))
  assert.eq(etcd.range("election/leader", {prefix = true, count_only = true}).count, 0,
            "resigned: no candidate key is left")
end)

test("the next worker takes over", function()
  job("worker-b", "1", "0.01")
  assert.eq(etcd.get("election/log/worker-b/1").value, "worker-b")
end)

test("a worker waits for the leader to resign", function()
  local holder = etcd.election("election/leader", {ttl = 5})
  holder:campaign("holder")
  local seen
  local obs = etcd.election("election/leader"):observe(function(value)
    seen = value
    if value == "holder" then holder:resign() end
  end)
  etcd.wait(0.2) -- the observer sees the holder and resigns it
  job("worker-c", "1", "0.01")
  obs:cancel()
  assert.eq(etcd.get("election/log/worker-c/1").value, "worker-c")
  assert.truthy(seen)
end)
