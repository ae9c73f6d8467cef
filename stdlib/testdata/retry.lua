local retry = require("retry")

test("returns results", function()
  local a, b = retry(function() return 1, "two" end)
  assert.eq(a, 1)
  assert.eq(b, "two")
  assert.eq(select("#", retry(function() end)), 0)
  assert.eq(retry.retry(function() return "x" end), "x")
end)

test("repeats retryable errors", function()
  local calls = 0
  local result = retry(function()
    calls = calls + 1
    if calls < 3 then helpers.raise("unavailable", true) end
    return "ok"
  end, {attempts = 5, base = 0.001, max = 0.01})
  assert.eq(result, "ok")
  assert.eq(calls, 3)
end)

test("script errors can ask for a retry", function()
  local calls = 0
  retry(function()
    calls = calls + 1
    if calls == 1 then error({retryable = true}) end
  end, {base = 0})
  assert.eq(calls, 2)
end)

test("other errors are raised unchanged at once", function()
  local calls = 0
  local e = assert.error(function()
    retry(function() calls = calls + 1; helpers.raise("compacted", false) end, {base = 0})
  end, "compacted")
  assert.eq(calls, 1)
  local t = {}
  local ok, got = pcall(retry, function() error(t) end)
  assert.truthy(rawequal(got, t))
  local ok, msg = pcall(retry, function() error("plain", 0) end)
  assert.eq(msg, "plain")
end)

test("last error is raised after the attempts", function()
  local calls = 0
  local e = assert.error(function()
    retry(function() calls = calls + 1; helpers.raise("unavailable", true, "try " .. calls) end,
      {attempts = 3, base = 0.001})
  end, "unavailable")
  assert.eq(calls, 3)
  assert.eq(e.message, "try 3")
end)

test("on_retry and backoff", function()
  local seen = {}
  local calls = 0
  retry(function()
    calls = calls + 1
    if calls < 4 then helpers.raise("unavailable", true) end
  end, {attempts = 4, base = 0.002, max = 0.004, on_retry = function(err, attempt, delay)
    seen[#seen + 1] = {code = err.code, attempt = attempt, delay = delay}
  end})
  assert.eq(#seen, 3)
  assert.eq(seen[1].attempt, 1)
  assert.eq(seen[3].code, "unavailable")
  -- delays: base*2^(n-1) capped at max, less up to half of jitter
  assert.truthy(seen[1].delay >= 0.001 and seen[1].delay <= 0.002, seen[1].delay)
  assert.truthy(seen[2].delay >= 0.002 and seen[2].delay <= 0.004, seen[2].delay)
  assert.truthy(seen[3].delay >= 0.002 and seen[3].delay <= 0.004, seen[3].delay)
end)

test("callbacks run while waiting", function()
  local fired = false
  helpers.post(function() fired = true end, 0)
  local calls = 0
  retry(function()
    calls = calls + 1
    if calls == 1 then helpers.raise("unavailable", true) end
  end, {base = 0.5, max = 0.5})
  assert.truthy(fired)
end)

test("argument errors", function()
  assert.error(function() retry() end, "retry: bad argument #1 (fn): function expected, got no value")
  assert.error(function() retry.retry(1) end, "retry: bad argument #1 (fn): function expected, got number")
  assert.error(function() retry(print, {tries = 3}) end, 'retry: bad argument #2 (opts): unknown option "tries"')
  assert.error(function() retry(print, {attempts = 0}) end, "retry: bad argument #2 (opts.attempts): attempts must be at least 1, got 0")
  assert.error(function() retry(print, {base = -1}) end, "retry: bad argument #2 (opts.base): duration must not be negative")
  assert.error(function() retry(print, {max = "5"}) end, "retry: bad argument #2 (opts.max)")
  assert.error(function() retry(print, {on_retry = 1}) end, "retry: bad argument #2 (opts.on_retry): function expected, got number")
end)
