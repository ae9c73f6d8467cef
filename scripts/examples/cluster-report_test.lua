-- Tests of cluster-report.lua on the one-member cluster a test file gets.
-- (tests/ops_test.go runs it on three members, one of them stopped.)
local here = arg[0]:match("^(.*/)") or ""
local report = assert(loadfile(here .. "cluster-report.lua"))

test("reports the member, its leader and no alarms", function()
  local r = report()
  assert.eq(#r.members, 1)
  local m = r.members[1]
  assert.truthy(m.healthy, m.error)
  assert.truthy(m.is_leader)
  assert.eq(r.leader, m.name)
  assert.truthy(m.db_size > 0 and m.db_size_in_use <= m.db_size)
  assert.match(m.version, "^3%.%d+%.%d+")
  assert.eq(#r.alarms, 0)
end)

test("encodes as JSON for -w json", function()
  local doc = require("json").decode(require("json").encode(report()))
  assert.eq(#doc.members, 1)
  assert.eq(#doc.alarms, 0)
end)
