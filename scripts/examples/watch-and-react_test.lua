-- Tests of watch-and-react.lua: jobs written before it starts are replayed
-- from a start revision, so the test has no race with the watch.
local here = arg[0]:match("^(.*/)") or ""
local react = assert(loadfile(here .. "watch-and-react.lua"))

test("handles N jobs and stops", function()
  local first = etcd.put("jobs/a", "hello").revision
  etcd.put("jobs/b", "world")
  etcd.put("jobs/c", "third")
  react("jobs/", "2", tostring(first))
  etcd.wait(10) -- returns once the watch has ended itself
  assert.eq(etcd.get("results/a").value, "HELLO")
  assert.eq(etcd.get("results/b").value, "WORLD")
  assert.falsy(etcd.get("results/c"), "a third job was handled")
end)

test("the stop key ends it early", function()
  local first = etcd.put("queue/x", "one").revision
  etcd.put("queue/stop", "")
  etcd.put("queue/y", "after stop")
  react("queue/", "10", tostring(first))
  etcd.wait(10)
  assert.eq(etcd.get("results/x").value, "ONE")
  assert.falsy(etcd.get("results/y"))
end)
