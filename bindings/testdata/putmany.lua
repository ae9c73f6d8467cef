-- etcd.put_many: bulk loads in atomic batches.
local P = PREFIX

local function count(prefix)
  return etcd.range(prefix, {prefix = true, count_only = true}).count
end

test("array of pairs", function()
  local items = {}
  for i = 1, 1000 do items[i] = {string.format("%sa/%04d", P, i), "v" .. i} end
  local r = etcd.put_many(items)
  assert.eq(r.written, 1000)
  assert.eq(type(r.revision), "number")
  assert.eq(count(P .. "a/"), 1000)
  assert.eq(etcd.get(P .. "a/0500").value, "v500")
  assert.truthy(etcd.get(P .. "a/1000").mod_revision <= r.revision)
end)

test("table of key -> value", function()
  local items = {}
  for i = 1, 300 do items[P .. "m/" .. i] = i end
  local r = etcd.put_many(items, {batch = 50, concurrency = 2})
  assert.eq(r.written, 300)
  assert.eq(count(P .. "m/"), 300)
  assert.eq(etcd.get(P .. "m/7").value, "7")
end)

test("iterator function", function()
  local i = 0
  local r = etcd.put_many(function()
    i = i + 1
    if i <= 777 then return P .. "i/" .. i, "x" end
  end, {batch = 100, concurrency = 1})
  assert.eq(r.written, 777)
  assert.eq(count(P .. "i/"), 777)
  -- coroutines make iterators too
  r = etcd.put_many(coroutine.wrap(function()
    for j = 1, 10 do coroutine.yield(P .. "co/" .. j, "y") end
  end))
  assert.eq(r.written, 10)
end)

test("empty input", function()
  local r = etcd.put_many({})
  assert.eq(r.written, 0)
  r = etcd.put_many(function() return nil end)
  assert.eq(r.written, 0)
end)

test("lease and batch bytes", function()
  local l = etcd.lease.grant(60)
  local items = {}
  for i = 1, 40 do items[i] = {P .. "l/" .. i, string.rep("z", 100 * 1024)} end
  -- 4 MB of values: the request size bound splits them below the server's limit
  local r = etcd.put_many(items, {lease = l})
  assert.eq(r.written, 40)
  assert.eq(etcd.get(P .. "l/1").lease, l.id)
  local ttl = l:ttl({keys = true})
  assert.eq(#ttl.keys, 40)
  r = etcd.put_many({{P .. "l/x", "v"}}, {lease = l.id, batch_bytes = 10})
  assert.eq(r.written, 1)
  l:revoke()
  assert.eq(count(P .. "l/"), 0)
end)

test("duplicate keys in one batch are split, not refused", function()
  local r = etcd.put_many({{P .. "dup", "1"}, {P .. "dup", "2"}, {P .. "dup", "3"}}, {concurrency = 1})
  assert.eq(r.written, 3)
  assert.eq(etcd.get(P .. "dup").value, "3")
end)

test("a failing batch stops the job and says what was written", function()
  local i = 0
  local err = assert.error(function()
    etcd.put_many(function()
      i = i + 1
      if i > 1000 then return nil end
      if i == 530 then return P .. "f/" .. i, string.rep("x", 1600 * 1024) end
      return string.format("%sf/%04d", P, i), "v"
    end, {batch = 100, concurrency = 1})
  end, "request_too_large")
  assert.eq(err.op, "etcd.put_many")
  -- batches 1-5 hold 100 keys each, batch 6 the 29 keys before the big
  -- one, which goes alone in batch 7 and is refused by the server
  assert.match(err.message, "batch 7 ")
  assert.match(err.message, "at least 529 keys were written")
  assert.eq(err.key, P .. "f/530")
  assert.eq(count(P .. "f/"), 529)
  -- a lease that does not exist fails the first batch
  err = assert.error(function() etcd.put_many({{P .. "g/1", "v"}}, {lease = "7777"}) end, "lease_not_found")
  assert.match(err.message, "at least 0 keys were written")
end)

test("bad items are refused before anything is sent", function()
  local err = assert.error(function() etcd.put_many({{P .. "b/1", "v"}, {P .. "b/2"}}) end, "invalid_argument")
  assert.match(err.message, "item 2")
  assert.error(function() etcd.put_many({{P .. "b/1", "v"}, "x"}) end, "invalid_argument")
  assert.error(function() etcd.put_many({[P .. "b/1"] = {}}) end, "invalid_argument")
  assert.error(function() etcd.put_many({{P .. "b/1", "v"}, k = "v"}) end, "invalid_argument")
  assert.error(function() etcd.put_many({{"", "v"}}) end, "empty_key")
  assert.error(function() etcd.put_many({}, {batch = 0}) end, "invalid_argument")
  assert.error(function() etcd.put_many({}, {concurrency = -1}) end, "invalid_argument")
  assert.error(function() etcd.put_many({}, {concurrency = 1e9}) end, "invalid_argument")
  assert.error(function() etcd.put_many({}, {progress = 1}) end, "invalid_argument")
  assert.eq(count(P .. "b/"), 0)
  -- an iterator's bad item stops it; what went before is written
  local i = 0
  err = assert.error(function()
    etcd.put_many(function()
      i = i + 1
      if i == 300 then return P .. "b/bad", {} end
      return P .. "b/" .. i, "v"
    end, {batch = 100, concurrency = 1})
  end, "invalid_argument")
  assert.match(err.message, "item 300")
  assert.match(err.message, "200 keys were written before")
  assert.eq(count(P .. "b/"), 200)
  -- an error raised by the iterator itself passes through
  err = assert.error(function()
    etcd.put_many(function() error({mine = true}) end)
  end)
  assert.eq(err.mine, true)
end)

test("progress stays silent off a terminal", function()
  local r = etcd.put_many({{P .. "p/1", "v"}}, {progress = true})
  assert.eq(r.written, 1)
end)
