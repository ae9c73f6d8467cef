-- Error objects: fields, tostring, codes, and argument checks that fail
-- before anything is sent.
local P = PREFIX

test("etcd.errors holds every code as a constant", function()
  local codes = {"canceled", "deadline_exceeded", "unavailable", "compacted", "future_revision",
    "empty_key", "key_not_found", "too_many_ops", "duplicate_key", "request_too_large",
    "lease_not_found", "auth_failed", "permission_denied", "invalid_auth_token", "no_leader",
    "invalid_argument", "lock_timeout", "script_timeout", "memory_limit", "io_error", "internal"}
  for _, c in ipairs(codes) do
    assert.eq(etcd.errors[c:upper()], c)
  end
  assert.eq(etcd.errors.COMPACTED, "compacted")
end)

test("pcall returns the error object with every documented field", function()
  local ok, err = pcall(etcd.put, "", "v")
  assert.eq(ok, false)
  assert.eq(err.code, "empty_key")
  assert.eq(err.code, etcd.errors.EMPTY_KEY)
  assert.eq(err.op, "etcd.put")
  assert.eq(type(err.message), "string")
  assert.eq(err.retryable, false)
  assert.eq(err.key, nil)
  assert.match(tostring(err), "^etcd.put: ")

  local r1 = etcd.put(P .. "k", "1")
  etcd.put(P .. "k", "2")
  etcd.compact(r1.revision + 1)
  ok, err = pcall(etcd.get, P .. "k", {rev = r1.revision})
  assert.eq(ok, false)
  assert.eq(err.code, "compacted")
  assert.eq(err.op, "etcd.get")
  assert.eq(err.key, P .. "k")
  assert.eq(err.retryable, false)
  assert.match(err.message, "compacted")
  assert.eq(tostring(err), "etcd.get: " .. err.message .. ' (key "' .. P .. 'k")')
  -- errors concatenate like strings
  assert.match("failed: " .. err, "^failed: etcd.get")
end)

test("wrong argument types and counts name the function and the argument", function()
  local cases = {
    {function() etcd.put() end, "etcd.put", "#1 %(key%)"},
    {function() etcd.put(P .. "k") end, "etcd.put", "#2 %(value%)"},
    {function() etcd.put({}, "v") end, "etcd.put", "#1 %(key%): string expected, got table"},
    {function() etcd.put(P .. "k", {}) end, "etcd.put", "#2 %(value%)"},
    {function() etcd.put(P .. "k", "v", "opts") end, "etcd.put", "#3 %(opts%)"},
    {function() etcd.get(true) end, "etcd.get", "#1 %(key%)"},
    {function() etcd.get(P .. "k", 5) end, "etcd.get", "#2 %(opts%)"},
    {function() etcd.range(nil) end, "etcd.range", "#1 %(key%)"},
    {function() etcd.delete() end, "etcd.delete", "#1 %(key%)"},
    {function() etcd.compact("x") end, "etcd.compact", "#1 %(rev%)"},
    {function() etcd.compact() end, "etcd.compact", "#1 %(rev%)"},
    {function() etcd.scan() end, "etcd.scan", "#1 %(key%)"},
    {function() etcd.put_many("x") end, "etcd.put_many", "#1 %(items%)"},
    {function() etcd.watch() end, "etcd.watch", "#1 %(key%)"},
    {function() etcd.watch(P, {}, "f") end, "etcd.watch", "#3 %(fn%)"},
    {function() etcd.lease.grant() end, "etcd.lease.grant", "#1 %(ttl%)"},
    {function() etcd.lease.grant(-5) end, "etcd.lease.grant", "#1 %(ttl%)"},
    {function() etcd.lease.get(12) end, "etcd.lease.get", "#1 %(id%)"},
    {function() etcd.lock() end, "etcd.lock", "#1 %(name%)"},
    {function() etcd.lock("l", {}) end, "etcd.lock", "#3 %(fn%)"},
    {function() etcd.election() end, "etcd.election", "#1 %(name%)"},
    {function() etcd.cmp.value() end, "etcd.cmp.value", "#1 %(key%)"},
    {function() etcd.cmp.value("k", "<>", "v") end, "etcd.cmp.value", "#2 %(op%)"},
    {function() etcd.cmp.value("k", "==") end, "etcd.cmp.value", "#3 %(value%)"},
    {function() etcd.cmp.version("k", "==", "1") end, "etcd.cmp.version", "#3 %(version%)"},
    {function() etcd.cmp.mod_revision("k", "==", 1.5) end, "etcd.cmp.mod_revision", "#3 %(rev%)"},
    {function() etcd.cmp.lease("k", "==", 7) end, "etcd.cmp.lease", "#3 %(lease%)"},
    {function() etcd.op.get() end, "etcd.op.get", "#1 %(key%)"},
    {function() etcd.op.put("k") end, "etcd.op.put", "#2 %(value%)"},
    {function() etcd.op.delete(1, 2) end, "etcd.op.delete", "#2 %(opts%)"},
    {function() etcd.op.txn("x") end, "etcd.op.txn", "#1 %(txn%)"},
    {function() etcd.txn("x") end, "etcd.txn", "#1 %(txn%)"},
    {function() etcd.txn():compare("x") end, "txn:compare", "#1 %(cmp%)"},
    {function() etcd.txn():success(etcd.cmp.value("k", "==", "v")) end, "txn:success", "#1 %(op%)"},
    {function() etcd.txn():failure(1) end, "txn:failure", "#1 %(op%)"},
    {function() etcd.wait("x") end, "etcd.wait", "#1 %(seconds%)"},
    {function() etcd.connect() end, "etcd.connect", "#1 %(opts%)"},
  }
  for i, c in ipairs(cases) do
    local err = assert.error(c[1], "invalid_argument", "case " .. i)
    assert.eq(err.op, c[2], "case " .. i)
    assert.match(err.message, "bad argument " .. c[3], "case " .. i .. ": " .. err.message)
    assert.match(tostring(err), "^" .. c[2]:gsub("%.", "%%.") .. ": bad argument", "case " .. i)
  end
end)

test("an unknown option key is refused, with a hint", function()
  local err = assert.error(function() etcd.get(P .. "k", {revv = 3}) end, "invalid_argument")
  assert.match(err.message, 'unknown option "revv"')
  assert.match(err.message, 'did you mean "rev"')
  assert.eq(err.op, "etcd.get")
  err = assert.error(function() etcd.range(P, {prefx = true}) end, "invalid_argument")
  assert.match(err.message, "#2 %(opts%)")
  assert.error(function() etcd.put(P .. "k", "v", {leese = "1"}) end, "invalid_argument")
  assert.error(function() etcd.delete(P .. "k", {prefix = true, x = 1}) end, "invalid_argument")
  assert.error(function() etcd.scan(P, {pagesize = 10}) end, "invalid_argument")
  assert.error(function() etcd.put_many({}, {batches = 10}) end, "invalid_argument")
  assert.error(function() etcd.watch(P, {on_event = print}) end, "invalid_argument")
  assert.error(function() etcd.lock("l", {tll = 3}, function() end) end, "invalid_argument")
  assert.error(function() etcd.election("e", {timeout = 3}) end, "invalid_argument")
  assert.error(function() etcd.txn({compare = {}, sucess = {}}) end, "invalid_argument")
  assert.error(function() etcd.cmp.value("k", "==", "v", {prefx = true}) end, "invalid_argument")
  assert.error(function() etcd.connect({endpoint = {"x"}}) end, "invalid_argument")
  -- option values are checked for type too, naming the option
  err = assert.error(function() etcd.range(P, {prefix = "yes"}) end, "invalid_argument")
  assert.match(err.message, "opts.prefix")
  err = assert.error(function() etcd.range(P, {limit = "3"}) end, "invalid_argument")
  assert.match(err.message, "opts.limit")
end)

test("nothing is sent when an argument is wrong", function()
  local before = etcd.put(P .. "probe", "x").revision
  pcall(etcd.put, P .. "never", "v", {prev_kv = "yes"})
  pcall(etcd.put_many, {{P .. "m1", "v"}, {P .. "m2", {}}})
  pcall(etcd.txn, {success = {etcd.op.put(P .. "t", "v")}, failure = {"x"}})
  pcall(etcd.delete, P .. "probe", {prefix = true, range_end = "z"})
  local after = etcd.put(P .. "probe", "y").revision
  assert.eq(after, before + 1)
  assert.eq(etcd.get(P .. "never"), nil)
  assert.eq(etcd.get(P .. "m1"), nil)
end)

test("empty keys raise empty_key", function()
  for _, f in ipairs({
    function() etcd.get("") end,
    function() etcd.range("") end,
    function() etcd.put("", "v") end,
    function() etcd.delete("") end,
    function() etcd.scan("") end,
    function() etcd.watch("") end,
    function() etcd.op.get("") end,
    function() etcd.op.put("", "v") end,
    function() etcd.op.delete("") end,
    function() etcd.cmp.value("", "==", "v") end,
    function() etcd.put_many({{"", "v"}}) end,
    function() etcd.lock("", function() end) end,
    function() etcd.election("") end,
  }) do
    local err = assert.error(f, "empty_key")
    assert.eq(err.retryable, false)
  end
end)

test("server limits keep their own codes", function()
  local ops = {}
  for i = 1, 129 do ops[i] = etcd.op.put(P .. "many/" .. i, "v") end
  local err = assert.error(function() etcd.txn({success = ops}) end, "too_many_ops")
  assert.eq(err.op, "etcd.txn")
  err = assert.error(function()
    etcd.txn({success = {etcd.op.put(P .. "dup", "1"), etcd.op.put(P .. "dup", "2")}})
  end, "duplicate_key")
  assert.eq(err.op, "etcd.txn")
  err = assert.error(function() etcd.put(P .. "big", string.rep("x", 2 * 1024 * 1024)) end, "request_too_large")
  assert.eq(err.op, "etcd.put")
end)

test("a timed out call is deadline_exceeded and retryable", function()
  local c = etcd.connect({endpoints = ENDPOINTS, command_timeout = 0.000001})
  local err = assert.error(function() c:get(P .. "k") end, "deadline_exceeded")
  assert.eq(err.retryable, true)
  assert.eq(err.op, "etcd.get")
  c:close()
end)
