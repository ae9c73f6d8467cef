-- get, range, put, delete, compact and their options.
local P = PREFIX

local function is_hex(s)
  return type(s) == "string" and s:match("^[0-9a-f]+$") ~= nil
end

test("put and get", function()
  local r = etcd.put(P .. "a", "1")
  assert.eq(type(r.revision), "number")
  assert.eq(r.prev_kv, nil)
  local kv, h = etcd.get(P .. "a")
  assert.eq(kv.key, P .. "a")
  assert.eq(kv.value, "1")
  assert.eq(kv.version, 1)
  assert.eq(kv.create_revision, r.revision)
  assert.eq(kv.mod_revision, r.revision)
  assert.eq(kv.lease, nil)
  assert.eq(h.revision, r.revision)
  assert.truthy(is_hex(h.cluster_id), h.cluster_id)
  assert.truthy(is_hex(h.member_id), h.member_id)
  assert.eq(type(h.raft_term), "number")

  local r2 = etcd.put(P .. "a", "2", {prev_kv = true})
  assert.eq(r2.revision, r.revision + 1)
  assert.eq(r2.prev_kv.value, "1")
  assert.eq(r2.prev_kv.mod_revision, r.revision)
  kv = etcd.get(P .. "a")
  assert.eq(kv.version, 2)
  assert.eq(kv.create_revision, r.revision)

  -- numbers are accepted as values, as Lua's own functions accept them
  etcd.put(P .. "n", 42)
  assert.eq(etcd.get(P .. "n").value, "42")
end)

test("binary keys and values pass unchanged", function()
  local k, v = P .. "bin\0\255\1", "\0\1\2\255 value"
  etcd.put(k, v)
  local kv = etcd.get(k)
  assert.eq(kv.key, k)
  assert.eq(kv.value, v)
  assert.eq(#kv.value, #v)
end)

test("get of a missing key", function()
  local kv, h = etcd.get(P .. "missing")
  assert.eq(kv, nil)
  assert.eq(type(h.revision), "number")
end)

test("get options", function()
  local r1 = etcd.put(P .. "g", "old")
  local r2 = etcd.put(P .. "g", "new")
  assert.eq(etcd.get(P .. "g", {rev = r1.revision}).value, "old")
  assert.eq(etcd.get(P .. "g", {serializable = true}).value, "new")
  local ko = etcd.get(P .. "g", {keys_only = true})
  assert.eq(ko.key, P .. "g")
  assert.eq(ko.value, "")
  assert.eq(etcd.get(P .. "g", {min_mod_revision = r2.revision + 1}), nil)
  assert.eq(etcd.get(P .. "g", {max_mod_revision = r2.revision}).value, "new")
  assert.eq(etcd.get(P .. "g", {min_create_revision = r1.revision}).value, "new")
  assert.eq(etcd.get(P .. "g", {max_create_revision = r1.revision - 1}), nil)
  for _, opt in ipairs({"prefix", "from_key", "count_only"}) do
    local err = assert.error(function() etcd.get(P .. "g", {[opt] = true}) end, "invalid_argument")
    assert.match(err.message, "etcd.range")
    assert.eq(err.op, "etcd.get")
  end
  assert.error(function() etcd.get(P .. "g", {limit = 1}) end, "invalid_argument")
  assert.error(function() etcd.get(P .. "g", {range_end = "z"}) end, "invalid_argument")
end)

local function seed(sub, n)
  local revs = {}
  for i = 1, n do
    revs[i] = etcd.put(P .. sub .. i, "v" .. (n - i)).revision
  end
  return revs
end

test("range", function()
  local revs = seed("r/", 5)
  local r = etcd.range(P .. "r/", {prefix = true})
  assert.eq(r.count, 5)
  assert.eq(r.more, false)
  assert.eq(#r.kvs, 5)
  assert.eq(r.kvs[1].key, P .. "r/1")
  assert.eq(r.kvs[5].key, P .. "r/5")
  assert.eq(r.revision, revs[5])

  r = etcd.range(P .. "r/", {prefix = true, limit = 2})
  assert.eq(#r.kvs, 2)
  assert.eq(r.count, 5)
  assert.eq(r.more, true)

  r = etcd.range(P .. "r/2", {range_end = P .. "r/4"})
  assert.eq(#r.kvs, 2)
  assert.eq(r.kvs[2].key, P .. "r/3")

  r = etcd.range(P .. "r/4", {from_key = true})
  assert.eq(r.kvs[1].key, P .. "r/4")
  assert.truthy(#r.kvs >= 2)

  r = etcd.range(P .. "r/", {prefix = true, rev = revs[2]})
  assert.eq(#r.kvs, 2)

  r = etcd.range(P .. "r/", {prefix = true, keys_only = true})
  assert.eq(r.kvs[1].value, "")

  r = etcd.range(P .. "r/", {prefix = true, count_only = true})
  assert.eq(r.count, 5)
  assert.eq(#r.kvs, 0)

  r = etcd.range(P .. "r/", {prefix = true, serializable = true})
  assert.eq(#r.kvs, 5)

  r = etcd.range(P .. "r/", {prefix = true, min_mod_revision = revs[4]})
  assert.eq(#r.kvs, 2)
  r = etcd.range(P .. "r/", {prefix = true, max_mod_revision = revs[2]})
  assert.eq(#r.kvs, 2)
  r = etcd.range(P .. "r/", {prefix = true, min_create_revision = revs[5]})
  assert.eq(#r.kvs, 1)
  r = etcd.range(P .. "r/", {prefix = true, max_create_revision = revs[1]})
  assert.eq(#r.kvs, 1)

  -- a single key
  r = etcd.range(P .. "r/3")
  assert.eq(#r.kvs, 1)
  r = etcd.range(P .. "r/none")
  assert.eq(#r.kvs, 0)
  assert.eq(r.count, 0)
end)

test("range sort", function()
  seed("s/", 4) -- values v3, v2, v1, v0 for keys 1..4
  local function keys(r)
    local out = {}
    for i, kv in ipairs(r.kvs) do out[i] = kv.key:sub(-1) end
    return table.concat(out)
  end
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {target = "key", order = "desc"}})), "4321")
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {target = "key"}})), "1234")
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {target = "value", order = "asc"}})), "4321")
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {target = "create", order = "desc"}})), "4321")
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {target = "mod", order = "asc"}})), "1234")
  etcd.put(P .. "s/1", "again")
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {target = "version", order = "desc"}})):sub(1, 1), "1")
  assert.eq(keys(etcd.range(P .. "s/", {prefix = true, sort = {order = "desc"}})), "4321")
  assert.error(function() etcd.range(P, {prefix = true, sort = {target = "size"}}) end, "invalid_argument")
  assert.error(function() etcd.range(P, {prefix = true, sort = {order = "up"}}) end, "invalid_argument")
  assert.error(function() etcd.range(P, {prefix = true, sort = {targt = "key"}}) end, "invalid_argument")
  assert.error(function() etcd.range(P, {prefix = true, sort = "key"}) end, "invalid_argument")
end)

test("range of the whole key space with an empty key", function()
  etcd.put(P .. "w", "x")
  local r = etcd.range("", {prefix = true, count_only = true})
  assert.truthy(r.count >= 1)
  r = etcd.range("", {from_key = true, limit = 1})
  assert.eq(#r.kvs, 1)
end)

test("put with a lease", function()
  local l = etcd.lease.grant(60)
  etcd.put(P .. "leased", "v", {lease = l})
  local kv = etcd.get(P .. "leased")
  assert.eq(kv.lease, l.id)
  etcd.put(P .. "leased2", "v", {lease = l.id})
  assert.eq(etcd.get(P .. "leased2").lease, l.id)
  -- ignore_lease keeps the lease, ignore_value keeps the value
  etcd.put(P .. "leased", "w", {ignore_lease = true})
  kv = etcd.get(P .. "leased")
  assert.eq(kv.value, "w")
  assert.eq(kv.lease, l.id)
  local l2 = etcd.lease.grant(60)
  etcd.put(P .. "leased", nil, {ignore_value = true, lease = l2})
  kv = etcd.get(P .. "leased")
  assert.eq(kv.value, "w")
  assert.eq(kv.lease, l2.id)
  l:revoke()
  l2:revoke()
  assert.eq(etcd.get(P .. "leased"), nil)
  -- ignore_value needs an existing key
  local err0 = assert.error(function() etcd.put(P .. "absent", nil, {ignore_value = true}) end, "key_not_found")
  assert.eq(err0.key, P .. "absent")
  -- a lease that does not exist
  local err = assert.error(function() etcd.put(P .. "x", "v", {lease = "1234abcd"}) end, "lease_not_found")
  assert.eq(err.key, P .. "x")
  -- a number is not a lease id
  assert.error(function() etcd.put(P .. "x", "v", {lease = 12345}) end, "invalid_argument")
  assert.error(function() etcd.put(P .. "x", "v", {lease = "xyz"}) end, "invalid_argument")
end)

test("delete", function()
  seed("d/", 5)
  local r = etcd.delete(P .. "d/1")
  assert.eq(r.deleted, 1)
  assert.eq(#r.prev_kvs, 0)
  assert.eq(type(r.revision), "number")
  r = etcd.delete(P .. "d/2", {prev_kv = true})
  assert.eq(r.deleted, 1)
  assert.eq(r.prev_kvs[1].key, P .. "d/2")
  assert.eq(r.prev_kvs[1].value, "v3")
  r = etcd.delete(P .. "d/3", {range_end = P .. "d/4"})
  assert.eq(r.deleted, 1)
  r = etcd.delete(P .. "d/4", {from_key = true, prev_kv = true})
  assert.truthy(r.deleted >= 1)
  assert.eq(r.prev_kvs[1].key, P .. "d/4")
  seed("d/", 3)
  r = etcd.delete(P .. "d/", {prefix = true})
  assert.eq(r.deleted, 3)
  r = etcd.delete(P .. "d/none")
  assert.eq(r.deleted, 0)
  -- an empty key is refused even with prefix: it would delete everything
  assert.error(function() etcd.delete("", {prefix = true}) end, "empty_key")
  assert.error(function() etcd.delete(P, {prefix = true, range_end = "z"}) end, "invalid_argument")
  assert.error(function() etcd.delete(P, {prefix = true, from_key = true}) end, "invalid_argument")
end)

test("compact", function()
  local r1 = etcd.put(P .. "c", "1")
  local r2 = etcd.put(P .. "c", "2")
  local c = etcd.compact(r2.revision)
  assert.eq(type(c.revision), "number")
  local err = assert.error(function() etcd.get(P .. "c", {rev = r1.revision}) end, "compacted")
  assert.eq(err.op, "etcd.get")
  assert.eq(err.key, P .. "c")
  assert.eq(err.retryable, false)
  -- compacting an already compacted revision
  assert.error(function() etcd.compact(r1.revision) end, "compacted")
  local r3 = etcd.put(P .. "c", "3")
  etcd.compact(r3.revision, {physical = true})
  assert.error(function() etcd.compact(0) end, "invalid_argument")
  assert.error(function() etcd.compact(-1) end, "invalid_argument")
  assert.error(function() etcd.compact(r3.revision, {phys = true}) end, "invalid_argument")
  -- a future revision
  assert.error(function() etcd.get(P .. "c", {rev = r3.revision + 1000}) end, "future_revision")
end)

test("revisions beyond 2^53 are refused, not rounded", function()
  local err = assert.error(function() etcd.get(P .. "a", {rev = 2^53 + 2}) end, "invalid_argument")
  assert.match(err.message, "2%^53")
  assert.error(function() etcd.compact(2^60) end, "invalid_argument")
  assert.error(function() etcd.range(P, {prefix = true, limit = 1.5}) end, "invalid_argument")
  assert.error(function() etcd.range(P, {prefix = true, limit = -1}) end, "invalid_argument")
  assert.error(function() etcd.get(P .. "a", {rev = -1}) end, "invalid_argument")
end)
