-- etcd.watch: callbacks dispatched at etcd.wait, pulling with w:next and
-- w:events, options, errors.
local P = PREFIX

-- wait_for dispatches callbacks until cond() holds, for at most 10 s.
local function wait_for(cond, what)
  local deadline = os.time() + 10
  while not cond() do
    if os.time() > deadline then assert.fail("timed out waiting for " .. (what or "a condition")) end
    etcd.wait(0.05)
  end
end

test("callback watch sees puts and deletes", function()
  local events = {}
  local w = etcd.watch(P .. "cb/", {prefix = true, prev_kv = true}, function(ev)
    events[#events + 1] = ev
  end)
  -- the watch exists on the server once etcd.watch returns: a write made
  -- right after is seen
  local r1 = etcd.put(P .. "cb/a", "1")
  local r2 = etcd.put(P .. "cb/a", "2")
  local r3 = etcd.delete(P .. "cb/a")
  assert.eq(#events, 0, "callbacks run only at dispatch points")
  wait_for(function() return #events == 3 end, "3 events")
  local e1, e2, e3 = events[1], events[2], events[3]
  assert.eq(e1.type, "put")
  assert.eq(e1.kv.key, P .. "cb/a")
  assert.eq(e1.kv.value, "1")
  assert.eq(e1.revision, r1.revision)
  assert.eq(e1.kv.mod_revision, r1.revision)
  assert.eq(e1.prev_kv, nil)
  assert.eq(e2.prev_kv.value, "1")
  assert.eq(e2.revision, r2.revision)
  assert.eq(e3.type, "delete")
  assert.eq(e3.kv.key, P .. "cb/a")
  assert.eq(e3.revision, r3.revision)
  assert.eq(e3.prev_kv.value, "2")
  w:cancel()
  w:cancel() -- twice is fine
  etcd.put(P .. "cb/b", "after cancel")
  etcd.wait(0.2)
  assert.eq(#events, 3)
  assert.match(tostring(w), "ended")
end)

test("a callback returning false ends its watch", function()
  local seen = 0
  local before = holds()
  etcd.watch(P .. "stop/", {prefix = true}, function(ev)
    seen = seen + 1
    if ev.kv.key == P .. "stop/end" then return false end
  end)
  assert.eq(holds(), before + 1)
  etcd.put(P .. "stop/1", "x")
  etcd.put(P .. "stop/end", "x")
  etcd.put(P .. "stop/2", "x")
  -- etcd.wait() with no argument returns once no watch is left
  assert.eq(etcd.wait(), true)
  assert.eq(seen, 2)
  assert.eq(holds(), before)
end)

test("etcd.wait with nothing to wait for returns at once", function()
  assert.eq(etcd.wait(), true)
  assert.eq(etcd.wait(0), true)
  local t0 = os.time()
  assert.eq(etcd.wait(30), true)
  assert.truthy(os.time() - t0 < 15, "etcd.wait(30) waited with no watch")
end)

test("etcd.wait(seconds) returns once the last watch has ended", function()
  -- a watch that ends at its own timeout
  local t0 = os.time()
  etcd.watch(P .. "nothing/", {prefix = true, timeout = 1}, function() end)
  assert.eq(etcd.wait(30), true)
  local took = os.time() - t0
  assert.truthy(took >= 1 and took < 15, "etcd.wait(30) took " .. took .. " s after a watch of 1 s")
  -- a watch whose callback returns false
  t0 = os.time()
  local seen = 0
  etcd.watch(P .. "once/", {prefix = true}, function() seen = seen + 1; return false end)
  put_after(0.2, P .. "once/a", "x")
  assert.eq(etcd.wait(30), true)
  assert.eq(seen, 1)
  assert.truthy(os.time() - t0 < 15, "etcd.wait(30) went on after the callback ended its watch")
end)

test("watch from a revision replays history", function()
  local r1 = etcd.put(P .. "hist", "1")
  etcd.put(P .. "hist", "2")
  etcd.put(P .. "hist", "3")
  local vals = {}
  local w = etcd.watch(P .. "hist", {rev = r1.revision}, function(ev)
    vals[#vals + 1] = ev.kv.value
  end)
  wait_for(function() return #vals == 3 end, "history")
  assert.eq(vals, {"1", "2", "3"})
  w:cancel()
end)

test("filters and ranges", function()
  local puts, dels, ranged, fromkey = {}, {}, {}, {}
  local ws = {
    etcd.watch(P .. "f/", {prefix = true, no_delete = true}, function(ev) puts[#puts + 1] = ev.type end),
    etcd.watch(P .. "f/", {prefix = true, no_put = true}, function(ev) dels[#dels + 1] = ev.type end),
    etcd.watch(P .. "f/b", {range_end = P .. "f/d"}, function(ev) ranged[#ranged + 1] = ev.kv.key:sub(-1) end),
    etcd.watch(P .. "f/c", {from_key = true}, function(ev)
      if ev.kv.key:sub(1, #P) == P then fromkey[#fromkey + 1] = ev.kv.key:sub(-1) end
    end),
  }
  for _, k in ipairs({"a", "b", "c", "d"}) do etcd.put(P .. "f/" .. k, "v") end
  etcd.delete(P .. "f/a")
  wait_for(function() return #puts == 4 and #dels == 1 and #ranged == 2 and #fromkey == 2 end, "filtered events")
  assert.eq(puts, {"put", "put", "put", "put"})
  assert.eq(dels, {"delete"})
  assert.eq(ranged, {"b", "c"})
  assert.eq(fromkey, {"c", "d"})
  for _, w in ipairs(ws) do w:cancel() end
end)

test("fragment and large events", function()
  local sizes = {}
  local w = etcd.watch(P .. "big/", {prefix = true, fragment = true}, function(ev)
    sizes[#sizes + 1] = #ev.kv.value
  end)
  local ops = {}
  for i = 1, 3 do ops[i] = etcd.op.put(P .. "big/" .. i, string.rep("x", 400 * 1024)) end
  etcd.txn({success = ops})
  wait_for(function() return #sizes == 3 end, "large events")
  assert.eq(sizes, {400 * 1024, 400 * 1024, 400 * 1024})
  w:cancel()
end)

test("progress notifications", function()
  local revs = {}
  local w = etcd.watch(P .. "quiet/", {prefix = true, progress_notify = true,
    on_progress = function(rev) revs[#revs + 1] = rev end}, function() end)
  local r = etcd.put(P .. "other", "x")
  wait_for(function() return #revs >= 1 and revs[#revs] >= r.revision end, "a progress notification")
  assert.eq(type(revs[1]), "number")
  w:cancel()
end)

test("a compacted start revision ends the watch with code compacted", function()
  local r1 = etcd.put(P .. "cmp", "1")
  etcd.compact(etcd.put(P .. "cmp", "2").revision)
  -- to on_error
  local got
  local before = holds()
  etcd.watch(P .. "cmp", {rev = r1.revision, on_error = function(err) got = err end}, function()
    assert.fail("no event expected")
  end)
  wait_for(function() return got ~= nil end, "on_error")
  assert.eq(got.code, "compacted")
  assert.eq(got.op, "etcd.watch")
  assert.eq(got.key, P .. "cmp")
  assert.eq(holds(), before)
  -- else raised from the dispatch point
  etcd.watch(P .. "cmp", {rev = r1.revision}, function() end)
  local ok, err = pcall(etcd.wait, 10)
  assert.eq(ok, false)
  assert.eq(err.code, "compacted")
  assert.eq(holds(), before)
end)

test("an error in a callback is raised from the dispatch point", function()
  -- (results go in a table: gopher-lua loses assignments to upvalues made
  -- from the results of a failed pcall)
  local got = {}
  local function failing_wait()
    local ok, err = pcall(etcd.wait, 0.05)
    if not ok then got.err = err end
    return not ok
  end
  local w = etcd.watch(P .. "boom", {}, function(ev) error("boom: " .. ev.kv.value) end)
  etcd.put(P .. "boom", "bang")
  wait_for(failing_wait, "the callback's error")
  w:cancel()
  assert.match(tostring(got.err), "boom: bang")
  -- error objects raised in callbacks keep their fields
  w = etcd.watch(P .. "boom2", {}, function() etcd.put("", "x") end)
  etcd.put(P .. "boom2", "x")
  got.err = nil
  wait_for(failing_wait, "the callback's error object")
  w:cancel()
  assert.eq(got.err.code, "empty_key")
  assert.eq(got.err.op, "etcd.put")
end)

test("pulling with next", function()
  local w = etcd.watch(P .. "pull/", {prefix = true})
  assert.eq(w:next(0.05), nil, "nothing yet: nil when the time passes")
  local r = etcd.put(P .. "pull/a", "1")
  local ev = w:next(5)
  assert.eq(ev.type, "put")
  assert.eq(ev.kv.value, "1")
  assert.eq(ev.revision, r.revision)
  -- several events of one txn come one by one
  etcd.txn({success = {etcd.op.put(P .. "pull/b", "2"), etcd.op.put(P .. "pull/c", "3")}})
  assert.eq(w:next(5).kv.key, P .. "pull/b")
  assert.eq(w:next(5).kv.key, P .. "pull/c")
  assert.eq(w:next(0), nil)
  -- a write from another goroutine arrives while next waits
  put_after(0.2, P .. "pull/late", "late")
  assert.eq(w:next(10).kv.value, "late")
  w:cancel()
  assert.eq(w:next(0.01), nil)
  assert.eq(w:next(), nil, "an ended watch returns nil at once")
end)

test("pulling with events, and other callbacks dispatched meanwhile", function()
  local w = etcd.watch(P .. "ev/", {prefix = true})
  local other = 0
  local cw = etcd.watch(P .. "side", {}, function() other = other + 1 end)
  etcd.put(P .. "side", "x")
  for i = 1, 3 do etcd.put(P .. "ev/" .. i, "v" .. i) end
  local got = {}
  for ev in w:events() do
    got[#got + 1] = ev.kv.value
    if #got == 3 then w:cancel() end
  end
  assert.eq(got, {"v1", "v2", "v3"})
  wait_for(function() return other == 1 end, "the side callback")
  cw:cancel()
  assert.error(function() cw:next(0) end, "invalid_argument")
  assert.error(function() w.next() end, "invalid_argument")
  assert.error(function() w:next("x") end, "invalid_argument")
end)

test("a pulling watch that ends with an error raises it from next", function()
  local r1 = etcd.put(P .. "pc", "1")
  etcd.compact(etcd.put(P .. "pc", "2").revision)
  local w = etcd.watch(P .. "pc", {rev = r1.revision})
  local err = assert.error(function() w:next(10) end, "compacted")
  assert.eq(err.key, P .. "pc")
  assert.eq(w:next(0), nil)
  -- with on_error the error goes there and next returns nil
  local got
  w = etcd.watch(P .. "pc", {rev = r1.revision, on_error = function(e) got = e end})
  assert.eq(w:next(10), nil)
  assert.eq(got.code, "compacted")
end)

test("the timeout option ends a watch", function()
  local before = holds()
  local n = 0
  etcd.watch(P .. "to", {timeout = 0.3}, function() n = n + 1 end)
  etcd.put(P .. "to", "x")
  assert.eq(etcd.wait(), true)
  assert.eq(n, 1)
  assert.eq(holds(), before)
  local w = etcd.watch(P .. "to2", {timeout = 0.2})
  assert.eq(w:next(), nil)
end)

test("watching the whole key space with an empty key", function()
  local n = 0
  local w = etcd.watch("", {prefix = true}, function() n = n + 1 end)
  etcd.put(P .. "all", "x")
  wait_for(function() return n >= 1 end, "an event")
  w:cancel()
end)
