-- Tests of rolling-defrag.lua on the one-member cluster a test file gets.
-- (tests/ops_test.go runs it on three members: each once, the leader last.)
local here = arg[0]:match("^(.*/)") or ""
local defrag = assert(loadfile(here .. "rolling-defrag.lua"))

test("defragments the member and reports its sizes", function()
  -- Something to give back: write and delete a few hundred KiB, compact.
  local big = string.rep("x", 4096)
  for i = 1, 100 do etcd.put("junk/" .. i, big) end
  etcd.delete("junk/", {prefix = true})
  etcd.compact(etcd.put("mark", "1").revision, {physical = true})
  local r = defrag("30")
  assert.eq(#r.members, 1)
  local m = r.members[1]
  assert.truthy(m.leader)
  assert.truthy(m.db_size_after <= m.db_size_before,
                string.format("%d -> %d bytes", m.db_size_before, m.db_size_after))
end)

test("runs again on a member just defragmented", function()
  -- (Its refusal under a raised alarm needs an alarm raised through the gRPC
  -- API, which scripts cannot do: see tests/ops_test.go.)
  assert.eq(#defrag().members, 1)
end)
