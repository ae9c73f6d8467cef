-- Tests of lock-job.lua: increments under the lock, fenced by its guard.
local here = arg[0]:match("^(.*/)") or ""
local job = assert(loadfile(here .. "lock-job.lua"))

test("counts every increment", function()
  job("3")
  job("2")
  assert.eq(etcd.get("jobs/counter").value, "5")
end)

test("leaves no lock behind", function()
  assert.eq(etcd.range("locks/counter", {prefix = true, count_only = true}).count, 0)
end)
