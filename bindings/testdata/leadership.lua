-- Leadership that tells the script when it is lost: on_lost, e:is_leader,
-- e:guard and e:observe.
local P = PREFIX

-- wait_for dispatches callbacks until cond() holds, for up to 15 s.
local function wait_for(cond, what)
  for _ = 1, 150 do
    if cond() then return end
    etcd.wait(0.1)
  end
  assert.fail("timed out waiting for " .. what)
end

-- revoke_session revokes, as another program could, the lease of a key.
local function revoke_lease_of(key)
  local kv = etcd.get(key)
  assert.truthy(kv and kv.lease, "a key on a lease: " .. key)
  etcd.lease.get(kv.lease):revoke()
end

test("election: on_lost runs when the session's lease is revoked; the guard fences", function()
  local lost
  local name = P .. "el/lost"
  local e = etcd.election(name, {ttl = 2, on_lost = function(err) lost = err end})
  assert.eq(e:is_leader(), false, "not before campaigning")
  e:campaign("a")
  assert.eq(e:is_leader(), true)
  local r = etcd.txn():compare(e:guard()):success(etcd.op.put(P .. "el/w", "1")):commit()
  assert.eq(r.succeeded, true, "the guard holds while leading")

  local _, kv = e:leader()
  revoke_lease_of(kv.key)
  assert.eq(e:is_leader(), false, "one read: the key is gone")
  r = etcd.txn():compare(e:guard()):success(etcd.op.put(P .. "el/w", "2")):commit()
  assert.eq(r.succeeded, false, "a write fenced by the guard fails once the key is gone")
  assert.eq(etcd.get(P .. "el/w").value, "1")

  wait_for(function() return lost ~= nil end, "on_lost")
  assert.eq(lost.code, "lease_not_found")
  assert.eq(lost.op, "etcd.election")
  assert.eq(lost.key, name)
  assert.match(lost.message, "lost")
  e:close()
end)

test("lock: on_lost runs inside fn when the lease is revoked; lock:guard fences", function()
  local lost
  local r = etcd.lock(P .. "lk/lost", {ttl = 2, on_lost = function(err) lost = err end}, function(lock)
    revoke_lease_of(lock.key)
    wait_for(function() return lost ~= nil end, "on_lost")
    return etcd.txn():compare(lock:guard()):success(etcd.op.put(P .. "lk/w", "1")):commit()
  end)
  assert.eq(r.succeeded, false)
  assert.eq(etcd.get(P .. "lk/w"), nil)
  assert.eq(lost.code, "lease_not_found")
  assert.eq(lost.op, "etcd.lock")
  assert.eq(lost.key, P .. "lk/lost")
end)

test("on_lost does not run when the session ends on purpose", function()
  local called = 0
  local function onlost() called = called + 1 end
  etcd.lock(P .. "lk/ok", {ttl = 2, on_lost = onlost}, function() end)
  local e = etcd.election(P .. "el/ok", {ttl = 2, on_lost = onlost})
  e:campaign("x")
  e:resign()
  e:close()
  etcd.wait(1)
  assert.eq(called, 0)
  assert.error(function() etcd.election(P .. "el/x", {on_lost = 1}) end, "invalid_argument")
  assert.error(function() etcd.lock(P .. "lk/x", {on_lost = "f"}, function() end) end, "invalid_argument")
  assert.error(function() etcd.election(P .. "el/x", {onlost = onlost}) end, "invalid_argument")
end)

test("is_leader and guard follow resign and a second candidate", function()
  local name = P .. "el/two"
  local a = etcd.election(name, {ttl = 10})
  local c = etcd.connect({endpoints = ENDPOINTS})
  local b = c:election(name, {ttl = 10})
  local err = assert.error(function() a:guard() end, "invalid_argument")
  assert.match(err.message, "campaign first")
  a:campaign("a")
  assert.eq(a:is_leader(), true)
  assert.eq(b:is_leader(), false)
  local g = a:guard()
  a:resign()
  assert.eq(a:is_leader(), false)
  b:campaign("b", {timeout = 5})
  assert.eq(b:is_leader(), true)
  assert.eq(etcd.txn():compare(g):success(etcd.op.put(P .. "el/two-w", "a")):commit().succeeded, false,
    "the old leader's guard fails after it resigned")
  assert.eq(etcd.txn():compare(b:guard()):success(etcd.op.put(P .. "el/two-w", "b")):commit().succeeded, true)
  assert.error(function() a.is_leader() end, "invalid_argument")
  b:close()
  c:close()
  a:close()
end)

test("observe: each leader once, in order, and every new value", function()
  local name = P .. "el/obs"
  local seen, keys = {}, {}
  local watcher = etcd.election(name)
  local before = holds()
  local h = watcher:observe(function(value, kv)
    seen[#seen + 1] = value
    keys[#keys + 1] = kv.key
  end)
  assert.eq(holds(), before + 1, "an observer keeps the run alive")
  assert.match(tostring(h), "^etcd.observer%(.*active%)$")
  local a, b = etcd.election(name), etcd.election(name)
  a:campaign("a")
  wait_for(function() return #seen >= 1 end, "leader a")
  a:resign()
  b:campaign("b")
  wait_for(function() return #seen >= 2 end, "leader b")
  b:proclaim("b2")
  wait_for(function() return #seen >= 3 end, "b's new value")
  etcd.wait(0.5)
  assert.eq(seen, {"a", "b", "b2"})
  assert.eq(keys[1]:sub(1, #name + 1), name .. "/")
  assert.eq(keys[2], keys[3], "a new value of the same leader")
  h:cancel()
  assert.eq(holds(), before)
  assert.match(tostring(h), "ended%)$")
  b:proclaim("b3")
  etcd.wait(0.3)
  assert.eq(#seen, 3, "nothing after cancel")

  -- The current leader at once; returning false ends the observation.
  local n = 0
  watcher:observe(function(value) n = n + 1; return false end)
  wait_for(function() return n == 1 end, "the current leader")
  assert.eq(holds(), before)
  assert.error(function() watcher:observe() end, "invalid_argument")
  a:close(); b:close(); watcher:close()
end)
