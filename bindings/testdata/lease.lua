-- Leases: ids as hex strings, grant, ttl, keepalive, revoke, list, get.
local P = PREFIX

local function wait_for(cond, what)
  local deadline = os.time() + 15
  while not cond() do
    if os.time() > deadline then assert.fail("timed out waiting for " .. (what or "a condition")) end
    etcd.wait(0.1)
  end
end

test("grant: ids are lowercase hex strings that round-trip", function()
  local ls = {}
  for i = 1, 5 do ls[i] = etcd.lease.grant(30) end
  local seen = {}
  for _, l in ipairs(ls) do
    assert.eq(type(l.id), "string")
    assert.match(l.id, "^[0-9a-f]+$")
    -- ids are above 2^53: consecutive ids would round to the same number
    assert.truthy(#l.id >= 14, l.id)
    assert.falsy(seen[l.id], "ids are distinct")
    seen[l.id] = true
    assert.eq(l.granted_ttl, 30)
    assert.match(tostring(l), "^etcd.lease%(" .. l.id .. "%)$")
  end
  -- the id survives a round trip through etcd and back
  etcd.put(P .. "rt", "v", {lease = ls[3].id})
  local kv = etcd.get(P .. "rt")
  assert.eq(kv.lease, ls[3].id)
  local again = etcd.lease.get(kv.lease)
  assert.eq(again.id, ls[3].id)
  assert.eq(again.granted_ttl, 30)
  -- listed
  local listed = {}
  for _, id in ipairs(etcd.lease.list()) do listed[id] = true end
  for _, l in ipairs(ls) do assert.truthy(listed[l.id], l.id) end
  for _, l in ipairs(ls) do l:revoke() end
  assert.eq(etcd.get(P .. "rt"), nil)
  local err = assert.error(function() etcd.lease.get(ls[1].id) end, "lease_not_found")
  assert.match(err.message, ls[1].id)
  assert.error(function() ls[1]:revoke() end, "lease_not_found")
  assert.error(function() ls[1]:keepalive_once() end, "lease_not_found")
end)

test("fractional ttls round up", function()
  local l = etcd.lease.grant(9.2)
  assert.eq(l.granted_ttl, 10)
  l:revoke()
end)

test("a ttl over etcd's limit names the limit", function()
  local err = assert.error(function() etcd.lease.grant(8e9) end, "invalid_argument")
  assert.match(err.message, "from 1 to 2147483647")
end)

test("ttl, with and without keys", function()
  local l = etcd.lease.grant(60)
  etcd.put(P .. "k1", "v", {lease = l})
  etcd.put(P .. "k2", "v", {lease = l})
  local t = l:ttl()
  assert.eq(t.granted_ttl, 60)
  assert.truthy(t.ttl > 0 and t.ttl <= 60)
  assert.eq(t.keys, nil)
  t = l:ttl({keys = true})
  table.sort(t.keys)
  assert.eq(t.keys, {P .. "k1", P .. "k2"})
  assert.error(function() l:ttl({key = true}) end, "invalid_argument")
  l:revoke()
  t = l:ttl()
  assert.eq(t.ttl, -1)
end)

test("keepalive_once returns the new ttl", function()
  local l = etcd.lease.grant(20)
  assert.eq(l:keepalive_once(), 20)
  assert.error(function() l:keepalive_once(1) end, "invalid_argument")
  l:revoke()
end)

test("keepalive keeps a short lease alive in the background", function()
  local l = etcd.lease.grant(3)
  local lost
  assert.eq(l:keepalive({on_lost = function(err) lost = err end}), l)
  etcd.put(P .. "alive", "v", {lease = l})
  -- well past the ttl, dispatching and not
  sleep(3.5)
  etcd.wait(1)
  assert.eq(etcd.get(P .. "alive").value, "v")
  assert.eq(lost, nil)
  assert.truthy(l:ttl().ttl > 0)
  -- a keepalive does not keep the run going: wait() returns at once
  assert.eq(etcd.wait(), true)
  -- calling it again is fine
  l:keepalive()
  l:revoke()
  etcd.wait(0.3)
  assert.eq(lost, nil, "a revoke by the script is not a loss")
  assert.eq(etcd.get(P .. "alive"), nil)
end)

test("on_lost runs when the lease is revoked elsewhere", function()
  local l = etcd.lease.grant(5)
  local lost
  l:keepalive({on_lost = function(err) lost = err end})
  -- revoke it through another client object: for this one it is lost
  local c = etcd.connect({endpoints = ENDPOINTS})
  c.lease.get(l.id):revoke()
  c:close()
  wait_for(function() return lost ~= nil end, "on_lost")
  assert.eq(lost.code, "lease_not_found")
  assert.eq(lost.op, "lease:keepalive")
  assert.match(lost.message, l.id)
end)

test("lease arguments", function()
  assert.error(function() etcd.lease.grant(0) end, "invalid_argument")
  assert.error(function() etcd.lease.grant("10") end, "invalid_argument")
  assert.error(function() etcd.lease.get("not hex") end, "invalid_argument")
  assert.error(function() etcd.lease.get() end, "invalid_argument")
  assert.error(function() etcd.lease.list(1) end, "invalid_argument")
  local l = etcd.lease.grant(10)
  assert.error(function() l.ttl() end, "invalid_argument")
  assert.error(function() l:keepalive({onlost = print}) end, "invalid_argument")
  assert.error(function() l:keepalive({on_lost = 1}) end, "invalid_argument")
  -- a lease object is accepted where an id is
  assert.eq(etcd.lease.get(l).id, l.id)
  l:revoke()
end)

test("ids keep their leading zeros: 16 digits, as etcdctl prints them", function()
  -- an id whose top hex digit is 0 (one id in sixteen)
  local full, short = "0afba2529baf5e04", "afba2529baf5e04"
  grant_with_id(full, 60)
  local l = etcd.lease.get(short) -- fewer digits are accepted
  assert.eq(l.id, full)
  assert.eq(tostring(l), "etcd.lease(" .. full .. ")")
  assert.eq(etcd.lease.get(full).id, full)
  etcd.put(P .. "z/a", "v", {lease = short})
  assert.eq(etcd.get(P .. "z/a").lease, full)
  assert.eq(etcd.range(P .. "z/", {prefix = true}).kvs[1].lease, full)
  for kv in etcd.scan(P .. "z/", {prefix = true}) do assert.eq(kv.lease, full) end
  local r = etcd.txn():success(etcd.op.get(P .. "z/a")):commit()
  assert.eq(r.responses[1].kvs[1].lease, full)
  local listed = false
  for _, id in ipairs(etcd.lease.list()) do listed = listed or id == full end
  assert.truthy(listed, "etcd.lease.list has " .. full)
  assert.match(tostring(etcd.cmp.lease(P .. "z/a", "==", short)), '"' .. full .. '"')
  local w = etcd.watch(P .. "z/", {prefix = true})
  etcd.put(P .. "z/b", "v", {lease = l})
  assert.eq(w:next(10).kv.lease, full)
  w:cancel()
  l:revoke()
  local err = assert.error(function() etcd.lease.get(short) end, "lease_not_found")
  assert.match(err.message, "lease " .. full .. " not found")
  -- small ids are padded too
  grant_with_id("1f", 60)
  local small = etcd.lease.get("1f")
  assert.eq(small.id, "000000000000001f")
  small:revoke()
end)
