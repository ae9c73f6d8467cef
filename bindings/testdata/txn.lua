-- Transactions: the builder, the table form, compares, ops, nesting.
local P = PREFIX

test("builder: success branch with every op kind", function()
  etcd.put(P .. "cfg/mode", "blue")
  etcd.put(P .. "cfg/other", "x")
  local r = etcd.txn()
    :compare(etcd.cmp.value(P .. "cfg/mode", "==", "blue"),
             etcd.cmp.mod_revision(P .. "cfg/lock", "<", 100))
    :success(etcd.op.put(P .. "cfg/mode", "green", {prev_kv = true}),
             etcd.op.get(P .. "cfg/", {prefix = true}),
             etcd.op.delete(P .. "cfg/other", {prev_kv = true}))
    :failure(etcd.op.get(P .. "cfg/mode"))
    :commit()
  assert.eq(r.succeeded, true)
  assert.eq(type(r.revision), "number")
  assert.eq(#r.responses, 3)
  local put, get, del = r.responses[1], r.responses[2], r.responses[3]
  assert.eq(put.op, "put")
  assert.eq(put.prev_kv.value, "blue")
  assert.eq(put.revision, r.revision)
  assert.eq(get.op, "get")
  assert.eq(get.count, 2)
  assert.eq(get.more, false)
  assert.eq(get.kvs[1].value, "green")
  assert.eq(del.op, "delete")
  assert.eq(del.deleted, 1)
  assert.eq(del.prev_kvs[1].value, "x")
  assert.eq(etcd.get(P .. "cfg/mode").value, "green")
end)

test("builder: failure branch", function()
  etcd.put(P .. "f", "a")
  local r = etcd.txn()
    :compare(etcd.cmp.value(P .. "f", "!=", "a"))
    :success(etcd.op.put(P .. "f", "b"))
    :failure(etcd.op.get(P .. "f"))
    :commit()
  assert.eq(r.succeeded, false)
  assert.eq(r.responses[1].op, "get")
  assert.eq(r.responses[1].kvs[1].value, "a")
  assert.eq(etcd.get(P .. "f").value, "a")
end)

test("builder calls may come in any order and repeat", function()
  local r = etcd.txn()
    :success(etcd.op.put(P .. "o1", "1"))
    :compare(etcd.cmp.version(P .. "o1", "==", 0))
    :success({etcd.op.put(P .. "o2", "2")})
    :commit()
  assert.eq(r.succeeded, true)
  assert.eq(#r.responses, 2)
  -- an empty txn
  r = etcd.txn():commit()
  assert.eq(r.succeeded, true)
  assert.eq(#r.responses, 0)
end)

test("table form commits at once", function()
  local r = etcd.txn({
    compare = {etcd.cmp.create_revision(P .. "t", "==", 0)},
    success = {etcd.op.put(P .. "t", "created")},
    failure = {etcd.op.get(P .. "t")},
  })
  assert.eq(r.succeeded, true)
  r = etcd.txn({
    compare = {etcd.cmp.create_revision(P .. "t", "==", 0)},
    success = {etcd.op.put(P .. "t", "again")},
    failure = {etcd.op.get(P .. "t")},
  })
  assert.eq(r.succeeded, false)
  assert.eq(r.responses[1].kvs[1].value, "created")
  r = etcd.txn({})
  assert.eq(r.succeeded, true)
  assert.error(function() etcd.txn({compare = {"x"}}) end, "invalid_argument")
  assert.error(function() etcd.txn({success = {etcd.op.get(P), x = 1}}) end, "invalid_argument")
end)

test("compares", function()
  local r1 = etcd.put(P .. "c/a", "m")
  local r2 = etcd.put(P .. "c/a", "n")
  local l = etcd.lease.grant(60)
  etcd.put(P .. "c/b", "z", {lease = l})
  local function holds(cmp)
    return etcd.txn():compare(cmp):commit().succeeded
  end
  assert.eq(holds(etcd.cmp.value(P .. "c/a", "==", "n")), true)
  assert.eq(holds(etcd.cmp.value(P .. "c/a", "=", "n")), true)
  assert.eq(holds(etcd.cmp.value(P .. "c/a", "!=", "n")), false)
  assert.eq(holds(etcd.cmp.value(P .. "c/a", "~=", "m")), true)
  assert.eq(holds(etcd.cmp.value(P .. "c/a", ">", "m")), true)
  assert.eq(holds(etcd.cmp.value(P .. "c/a", "<", "m")), false)
  assert.eq(holds(etcd.cmp.version(P .. "c/a", "==", 2)), true)
  assert.eq(holds(etcd.cmp.version(P .. "c/a", ">", 2)), false)
  assert.eq(holds(etcd.cmp.create_revision(P .. "c/a", "==", r1.revision)), true)
  assert.eq(holds(etcd.cmp.mod_revision(P .. "c/a", "==", r2.revision)), true)
  assert.eq(holds(etcd.cmp.mod_revision(P .. "c/a", "<", r2.revision)), false)
  assert.eq(holds(etcd.cmp.lease(P .. "c/b", "==", l)), true)
  assert.eq(holds(etcd.cmp.lease(P .. "c/b", "==", l.id)), true)
  assert.eq(holds(etcd.cmp.lease(P .. "c/a", "==", "0")), true)
  assert.eq(holds(etcd.cmp.lease(P .. "c/a", "==", l)), false)
  -- over a range
  assert.eq(holds(etcd.cmp.version(P .. "c/", ">", 0, {prefix = true})), true)
  assert.eq(holds(etcd.cmp.version(P .. "c/", "==", 2, {prefix = true})), false)
  assert.eq(holds(etcd.cmp.mod_revision(P .. "c/a", ">", 0, {range_end = P .. "c/c"})), true)
  assert.eq(holds(etcd.cmp.value(P .. "c/", "==", "n", {range_end = P .. "c/b"})), true)
  assert.error(function() etcd.cmp.value(P, "==", "x", {prefix = true, range_end = "z"}) end, "invalid_argument")
  assert.error(function() etcd.cmp.version(P, "==", -1) end, "invalid_argument")
  assert.match(tostring(etcd.cmp.value("k", "==", "v")), 'etcd.cmp.value%("k", "==", "v"%)')
  l:revoke()
end)

test("nested txn", function()
  etcd.put(P .. "n/x", "1")
  local inner = etcd.txn()
    :compare(etcd.cmp.value(P .. "n/x", "==", "1"))
    :success(etcd.op.put(P .. "n/y", "from inner"), etcd.op.get(P .. "n/x"))
  local r = etcd.txn()
    :success(etcd.op.txn(inner), etcd.op.txn({
      compare = {etcd.cmp.value(P .. "n/x", "==", "2")},
      failure = {etcd.op.delete(P .. "n/z")},
    }))
    :commit()
  assert.eq(r.succeeded, true)
  local a, b = r.responses[1], r.responses[2]
  assert.eq(a.op, "txn")
  assert.eq(a.succeeded, true)
  assert.eq(a.responses[1].op, "put")
  assert.eq(a.responses[2].op, "get")
  assert.eq(a.responses[2].kvs[1].value, "1")
  assert.eq(b.op, "txn")
  assert.eq(b.succeeded, false)
  assert.eq(b.responses[1].op, "delete")
  assert.eq(etcd.get(P .. "n/y").value, "from inner")
end)

test("a failed txn raises with op etcd.txn", function()
  local r1 = etcd.put(P .. "x", "1")
  etcd.compact(etcd.put(P .. "x", "2").revision)
  local err = assert.error(function()
    etcd.txn():success(etcd.op.get(P .. "x", {rev = r1.revision})):commit()
  end, "compacted")
  assert.eq(err.op, "etcd.txn")
  assert.error(function() etcd.txn():commit(1) end, "invalid_argument")
  assert.error(function() local t = etcd.txn(); t.commit() end, "invalid_argument")
end)

test("ops print what they do", function()
  assert.eq(tostring(etcd.op.put("k", "v")), 'etcd.op.put("k")')
  assert.eq(tostring(etcd.op.get("k")), 'etcd.op.get("k")')
end)
