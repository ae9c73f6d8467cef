-- etcd.lock and etcd.election.
local P = PREFIX

test("lock: fields, release, and what fn returns", function()
  local held
  local a, b = etcd.lock(P .. "locks/m", {ttl = 10, timeout = 5}, function(lock)
    held = lock
    assert.eq(lock.key:sub(1, #P + 8), P .. "locks/m/")
    local kv = etcd.get(lock.key)
    assert.truthy(kv, "the lock's key exists while held")
    assert.eq(lock.revision, kv.create_revision)
    assert.truthy(kv.lease ~= nil, "attached to the session's lease")
    assert.match(tostring(lock), "^etcd.lock%(")
    return "done", 42
  end)
  assert.eq(a, "done")
  assert.eq(b, 42)
  assert.eq(etcd.get(held.key), nil, "released when fn returns")
  -- without options
  assert.eq(etcd.lock(P .. "locks/plain", function() return 1 end), 1)
end)

test("lock:guard fences writes to the time the lock is held", function()
  local guard
  etcd.lock(P .. "locks/g", {ttl = 10}, function(lock)
    guard = lock:guard()
    local r = etcd.txn():compare(lock:guard()):success(etcd.op.put(P .. "fenced", "1")):commit()
    assert.eq(r.succeeded, true)
  end)
  local r = etcd.txn():compare(guard):success(etcd.op.put(P .. "fenced", "2")):commit()
  assert.eq(r.succeeded, false, "the guard fails once the lock is released")
  assert.eq(etcd.get(P .. "fenced").value, "1")
end)

test("lock: an error in fn releases the lock and is raised again", function()
  local key
  local err = assert.error(function()
    etcd.lock(P .. "locks/e", function(lock)
      key = lock.key
      etcd.get("") -- raises empty_key
    end)
  end, "empty_key")
  assert.eq(err.op, "etcd.get")
  assert.eq(etcd.get(key), nil)
  err = assert.error(function()
    etcd.lock(P .. "locks/e", function() error({custom = 1}) end)
  end)
  assert.eq(err.custom, 1)
end)

test("lock: waiting is bounded by the timeout option", function()
  local c = etcd.connect({endpoints = ENDPOINTS})
  etcd.lock(P .. "locks/t", function()
    local err = assert.error(function()
      c:lock(P .. "locks/t", {timeout = 0.3}, function() assert.fail("must not run") end)
    end, "lock_timeout")
    assert.eq(err.op, "etcd.lock")
    assert.eq(err.key, P .. "locks/t")
    assert.match(err.message, "300ms")
  end)
  -- free again: the other client gets it at once
  assert.eq(c:lock(P .. "locks/t", {timeout = 5}, function() return "got it" end), "got it")
  -- only the waiter's key was left behind, and it is gone
  assert.eq(etcd.range(P .. "locks/t/", {prefix = true}).count, 0)
  c:close()
end)

test("lock arguments", function()
  assert.error(function() etcd.lock(P .. "l", {ttl = 0}, function() end) end, "invalid_argument")
  assert.error(function() etcd.lock(P .. "l", {timeout = -1}, function() end) end, "invalid_argument")
  assert.error(function() etcd.lock(P .. "l", {}, "x") end, "invalid_argument")
  assert.error(function() etcd.lock(P .. "l") end, "invalid_argument")
end)

test("election", function()
  local name = P .. "elect/idx"
  local e1 = etcd.election(name, {ttl = 10})
  assert.match(tostring(e1), "^etcd.election%(")
  local v, kv = e1:leader()
  assert.eq(v, nil)
  assert.eq(kv, nil)
  e1:campaign("node-a")
  v, kv = e1:leader()
  assert.eq(v, "node-a")
  assert.eq(kv.value, "node-a")
  assert.eq(kv.key:sub(1, #name), name)
  e1:proclaim("v2")
  assert.eq((e1:leader()), "v2")

  local c = etcd.connect({endpoints = ENDPOINTS})
  local e2 = c:election(name, {ttl = 10})
  assert.eq((e2:leader()), "v2", "the other candidate sees the leader")
  local err = assert.error(function() e2:campaign("node-b", {timeout = 0.3}) end, "lock_timeout")
  assert.eq(err.op, "election:campaign")
  err = assert.error(function() e2:proclaim("x") end, "invalid_argument")
  assert.match(err.message, "not the leader")
  e1:resign()
  e2:campaign("node-b", {timeout = 5})
  assert.eq((e1:leader()), "node-b")
  -- closing the leader's session ends its lead
  e2:close()
  assert.eq((e1:leader()), nil)
  c:close()
  e1:close()
  assert.error(function() e1:campaign() end, "invalid_argument")
  assert.error(function() e1.leader() end, "invalid_argument")
  assert.error(function() e1:campaign("v", {tiemout = 1}) end, "invalid_argument")
end)

test("election: proclaim and resign after the session's lease was lost", function()
  local name = P .. "elect/lost"
  local e = etcd.election(name, {ttl = 10})
  e:campaign("node-a")
  local _, kv = e:leader()
  etcd.lease.get(kv.lease):revoke() -- the candidacy's key goes with it
  local err = assert.error(function() e:proclaim("x") end, "invalid_argument")
  assert.eq(err.op, "election:proclaim")
  assert.match(err.message, "leadership was lost")
  err = assert.error(function() e:proclaim("y") end, "invalid_argument")
  assert.match(err.message, "leadership was lost")
  -- resigning what is already gone is not an error
  e:resign()
  err = assert.error(function() e:proclaim("y") end, "invalid_argument")
  assert.match(err.message, "campaign first")
  e:close()
  -- a candidate that never campaigned is told to campaign
  local e2 = etcd.election(name, {ttl = 10})
  err = assert.error(function() e2:proclaim("z") end, "invalid_argument")
  assert.match(err.message, "campaign first")
  e2:resign()
  e2:close()
end)
