-- etcd.connect: client objects with every call as a method.
local P = PREFIX

test("a client object has every call as a method", function()
  local c = etcd.connect({endpoints = ENDPOINTS, dial_timeout = 5, command_timeout = 10})
  assert.match(tostring(c), "^etcd client %(")
  local r = c:put(P .. "a", "1")
  assert.eq(c:get(P .. "a").value, "1")
  assert.eq(etcd.get(P .. "a").mod_revision, r.revision, "same cluster as the default client")
  assert.eq(#c:range(P, {prefix = true}).kvs, 1)
  local n = 0
  for _ in c:scan(P, {prefix = true}) do n = n + 1 end
  assert.eq(n, 1)
  assert.eq(c:put_many({{P .. "b", "2"}, {P .. "c", "3"}}).written, 2)
  local t = c:txn():compare(etcd.cmp.value(P .. "b", "==", "2")):success(etcd.op.get(P .. "c")):commit()
  assert.eq(t.responses[1].kvs[1].value, "3")
  t = c:txn({success = {etcd.op.delete(P .. "c")}})
  assert.eq(t.responses[1].deleted, 1)
  assert.eq(c:delete(P .. "b").deleted, 1)
  -- leases: c.lease.grant is bound to c and called with a dot
  local l = c.lease.grant(30)
  assert.match(l.id, "^[0-9a-f]+$")
  c:put(P .. "l", "v", {lease = l})
  assert.eq(c.lease.get(l.id).id, l.id)
  local found = false
  for _, id in ipairs(c.lease.list()) do if id == l.id then found = true end end
  assert.truthy(found)
  l:revoke()
  -- watch
  local w = c:watch(P .. "w")
  c:put(P .. "w", "x")
  assert.eq(w:next(5).kv.value, "x")
  w:cancel()
  -- compact takes a revision
  c:compact(c:put(P .. "z", "z").revision)
  -- calling with a dot is refused, naming the fix
  local err = assert.error(function() c.get(P .. "a") end, "invalid_argument")
  assert.match(err.message, "c:get")
  assert.error(function() c.put(P .. "a", "v") end, "invalid_argument")
  -- argument positions count as the script wrote them
  err = assert.error(function() c:put(P .. "a") end, "invalid_argument")
  assert.match(err.message, "#2 %(value%)")
  c:close()
  c:close() -- twice is fine
  err = assert.error(function() c:get(P .. "a") end, "canceled")
  assert.eq(err.op, "etcd.get")
end)

test("a namespace prefixes every key", function()
  local c = etcd.connect({endpoints = ENDPOINTS, namespace = P .. "ns/"})
  c:put("k", "inside")
  assert.eq(etcd.get(P .. "ns/k").value, "inside")
  local kv = c:get("k")
  assert.eq(kv.key, "k")
  local keys = {}
  for x in c:scan("", {prefix = true}) do keys[#keys + 1] = x.key end
  assert.eq(keys, {"k"})
  local r = c:range("", {prefix = true})
  assert.eq(r.kvs[1].key, "k")
  local w = c:watch("w")
  etcd.put(P .. "ns/w", "seen")
  local ev = w:next(5)
  assert.eq(ev.kv.key, "w")
  assert.eq(ev.kv.value, "seen")
  w:cancel()
  local t = c:txn():compare(etcd.cmp.value("k", "==", "inside")):success(etcd.op.put("k2", "v")):commit()
  assert.eq(t.succeeded, true)
  assert.eq(etcd.get(P .. "ns/k2").value, "v")
  c:close()
end)

test("connect failures", function()
  local err = assert.error(function()
    etcd.connect({endpoints = {"127.0.0.1:1"}, dial_timeout = 0.3})
  end, "unavailable")
  assert.eq(err.op, "etcd.connect")
  assert.eq(err.retryable, true)
  assert.error(function() etcd.connect({}) end, "invalid_argument")
  assert.error(function() etcd.connect({endpoints = {}}) end, "invalid_argument")
  assert.error(function() etcd.connect({endpoints = {1}}) end, "invalid_argument")
  assert.error(function() etcd.connect({endpoints = ENDPOINTS, password = "p"}) end, "invalid_argument")
  assert.error(function() etcd.connect({endpoints = ENDPOINTS, dial_timeout = "5"}) end, "invalid_argument")
  assert.error(function() etcd.connect({endpoints = ENDPOINTS, cert = "/nonexistent"}) end, "invalid_argument")
end)

test("clients left open are closed at the end of the run", function()
  local c = etcd.connect({endpoints = ENDPOINTS})
  c:watch(P .. "left", {}, function() end):cancel()
  c:watch(P .. "open") -- a pulling watch left open
  c.lease.grant(30):keepalive()
end)
