-- Coroutines work as in Lua, errors included.
local assert = require("assert")

local co = coroutine.create(function(a)
  local b = coroutine.yield(a + 1)
  local c = coroutine.yield(b * 2)
  return "done", c
end)
assert.eq({coroutine.resume(co, 1)}, {true, 2})
assert.eq({coroutine.resume(co, 5)}, {true, 10})
assert.eq({coroutine.resume(co, "z")}, {true, "done", "z"})
assert.eq(coroutine.status(co), "dead")
local ok, err = coroutine.resume(co)
assert.falsy(ok)
assert.match(err, "dead")

local bad = coroutine.create(function() error({why = "inside"}) end)
ok, err = coroutine.resume(bad)
assert.falsy(ok)
assert.eq(err.why, "inside")

local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
assert.eq({gen(), gen(), gen()}, {1, 2, 3})

local failing = coroutine.wrap(function() error("wrapped failure") end)
ok, err = pcall(failing)
assert.falsy(ok)
assert.match(err, "wrapped failure")
