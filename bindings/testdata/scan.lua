-- etcd.scan: an iterator over a range of any size, at one revision.
local P = PREFIX

test("scan of more than 10,000 keys while writes go on sees one revision", function()
  local n = 12000
  local w = etcd.put_many(function()
    return nil
  end)
  assert.eq(w.written, 0)
  local i = 0
  local r = etcd.put_many(function()
    i = i + 1
    if i > n then return nil end
    return string.format("%sbig/%08d", P, i), "value-" .. i
  end)
  assert.eq(r.written, n)
  -- once the scan has begun, writers add keys inside the range and rewrite
  -- existing ones while it runs; the scan must see the range exactly as it
  -- was when it began
  local it = etcd.scan(P .. "big/", {prefix = true})
  local wait_new = background_puts(P .. "big/x", 3000)
  local wait_old = background_puts(P .. "big/", 3000)
  local count, last = 0, ""
  local maxrev = 0
  for kv in it do
    count = count + 1
    assert.truthy(kv.key > last, "keys in ascending order")
    last = kv.key
    if kv.mod_revision > maxrev then maxrev = kv.mod_revision end
    assert.eq(kv.value:sub(1, 6), "value-", kv.key)
    if count % 2000 == 0 then sleep(0.01) end -- let the writers get ahead
  end
  assert.eq(count, n)
  assert.truthy(maxrev <= r.revision)
  assert.eq(wait_new(), 3000)
  assert.eq(wait_old(), 3000)
  -- a new scan sees the writes
  count = 0
  for _ in etcd.scan(P .. "big/", {prefix = true, page_size = 5000}) do count = count + 1 end
  assert.eq(count, n + 3000 + 1) -- big/x..., and big/00000000
end)

test("scan options", function()
  local revs = {}
  for i = 1, 30 do revs[i] = etcd.put(string.format("%ss/%02d", P, i), "v" .. i).revision end
  local function collect(key, opts)
    local out = {}
    for kv in etcd.scan(key, opts) do out[#out + 1] = kv end
    return out
  end
  assert.eq(#collect(P .. "s/", {prefix = true, page_size = 7}), 30)
  assert.eq(#collect(P .. "s/", {prefix = true, limit = 12}), 12)
  assert.eq(#collect(P .. "s/05", {range_end = P .. "s/10"}), 5)
  assert.eq(#collect(P .. "s/25", {from_key = true}) >= 6, true)
  assert.eq(#collect(P .. "s/", {prefix = true, rev = revs[10]}), 10)
  local ko = collect(P .. "s/", {prefix = true, keys_only = true, limit = 1})
  assert.eq(ko[1].value, "")
  assert.eq(#collect(P .. "s/", {prefix = true, min_mod_revision = revs[21]}), 10)
  assert.eq(#collect(P .. "s/", {prefix = true, max_create_revision = revs[3]}), 3)
  assert.eq(#collect(P .. "s/", {prefix = true, serializable = true}), 30)
  assert.eq(#collect(P .. "s/", {prefix = true, sort = {target = "key", order = "asc"}}), 30)
  -- a single key, and a missing one
  assert.eq(#collect(P .. "s/07"), 1)
  assert.eq(#collect(P .. "s/none"), 0)
  assert.error(function() etcd.scan(P, {prefix = true, sort = {order = "desc"}}) end, "invalid_argument")
  assert.error(function() etcd.scan(P, {prefix = true, count_only = true}) end, "invalid_argument")
  assert.error(function() etcd.scan(P, {prefix = true, page_size = 0}) end, "invalid_argument")
  assert.error(function() etcd.scan(P, {prefix = true, limit = -1}) end, "invalid_argument")
end)

test("scan at a compacted revision fails at once", function()
  local r1 = etcd.put(P .. "c", "1")
  etcd.compact(etcd.put(P .. "c", "2").revision)
  local err = assert.error(function() etcd.scan(P .. "c", {rev = r1.revision}) end, "compacted")
  assert.eq(err.op, "etcd.scan")
  assert.eq(err.key, P .. "c")
end)

test("breaking out of a scan early is fine", function()
  for i = 1, 20 do etcd.put(string.format("%sb/%02d", P, i), "v") end
  local n = 0
  for _ = 1, 50 do
    for kv in etcd.scan(P .. "b/", {prefix = true}) do
      n = n + 1
      break
    end
  end
  assert.eq(n, 50)
  -- the iterator returns nil after the end, repeatedly
  local it = etcd.scan(P .. "b/01")
  assert.eq(it().key, P .. "b/01")
  assert.eq(it(), nil)
  assert.eq(it(), nil)
end)

test("a scan's iterator tells the revision it reads at", function()
  for i = 1, 5 do etcd.put(string.format("%srev/%02d", P, i), "v" .. i) end
  local head = etcd.put(P .. "other", "x").revision
  local it = etcd.scan(P .. "rev/", {prefix = true, page_size = 2})
  assert.eq(it.revision, head, "the revision is known before the first key")
  etcd.put(P .. "rev/06", "later") -- after the scan began: not seen
  local n = 0
  for kv in it do
    n = n + 1
    assert.truthy(kv.mod_revision <= it.revision)
  end
  assert.eq(n, 5)
  assert.eq(it.revision, head)
  assert.match(tostring(it), "^etcd.scan%(")
  -- with rev, that revision
  assert.eq(etcd.scan(P .. "rev/", {prefix = true, rev = head - 1}).revision, head - 1)
  -- an export reads at it.revision; a watch from it.revision + 1 misses nothing
  local it2 = etcd.scan(P .. "rev/", {prefix = true})
  local count = 0
  for _ in it2 do count = count + 1 end
  assert.eq(count, 6)
  local r = etcd.range(P .. "rev/", {prefix = true, rev = it2.revision})
  assert.eq(r.count, 6)
  assert.eq(type(it2.nothing), "nil")
  -- the whole key space
  local all = etcd.scan("", {prefix = true, limit = 1})
  assert.truthy(all.revision >= it2.revision)
  assert.truthy(all() ~= nil)
end)

test("a scan of the whole keyspace: \"\" with prefix or from_key", function()
  for i = 1, 5 do etcd.put(string.format("%sw/%d", P, i), "v" .. i) end
  local rev = etcd.put(P .. "w/0", "v0").revision
  local want = etcd.range("", {prefix = true, rev = rev, keys_only = true})
  assert(#want.kvs >= 6, "the keyspace has " .. #want.kvs .. " keys")
  for _, opts in ipairs({{prefix = true, rev = rev}, {from_key = true, rev = rev}}) do
    local got = {}
    for kv in etcd.scan("", opts) do got[#got + 1] = kv.key end
    assert.eq(#got, #want.kvs)
    for i, kv in ipairs(want.kvs) do
      if got[i] ~= kv.key then error(string.format("key %d = %q, want %q", i, got[i], kv.key)) end
    end
  end
end)

test("a scan of a whole namespace, in pages too", function()
  local c = etcd.connect({endpoints = ENDPOINTS, namespace = P .. "wns/"})
  local want = {}
  for i = 1, 25 do
    want[i] = string.format("%02d", i)
    c:put(want[i], "v")
  end
  etcd.put(P .. "wns", "the prefix itself is outside")
  etcd.put(P .. "wnt", "after the namespace")
  for _, opts in ipairs({{prefix = true}, {from_key = true}, {prefix = true, page_size = 4}, {from_key = true, page_size = 1}}) do
    local got = {}
    for kv in c:scan("", opts) do got[#got + 1] = kv.key end
    assert.eq(got, want)
  end
  local got = {}
  for kv in c:scan("1", {prefix = true, page_size = 3}) do got[#got + 1] = kv.key end
  assert.eq(got, {"10", "11", "12", "13", "14", "15", "16", "17", "18", "19"})
  c:close()
end)
