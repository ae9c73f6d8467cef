-- pcall and xpcall keep Lua's semantics in the engine's versions.
local assert = require("assert")

-- Results pass through.
assert.eq({pcall(function(a, b) return a + b, "x" end, 1, 2)}, {true, 3, "x"})
assert.eq({pcall(function() end)}, {true})

-- A string error carries its position.
local ok, err = pcall(error, "plain", 0)
assert.eq({ok, err}, {false, "plain"})
ok, err = pcall(function() error("positioned") end)
assert.falsy(ok)
assert.match(err, "pcall%.lua:%d+: positioned$")

-- Tables and error objects pass through intact.
local t = {code = 7}
ok, err = pcall(error, t)
assert.truthy(err == t)
ok, err = pcall(require("json").decode, {})
assert.eq(err.code, "invalid_argument")
assert.eq(err.op, "json.decode")

-- Something that cannot be called.
ok, err = pcall(42)
assert.eq({ok, err}, {false, "attempt to call a number value"})
local callable = setmetatable({}, {__call = function(self, x) return x * 2 end})
assert.eq({pcall(callable, 21)}, {true, 42})

-- xpcall hands the error to the handler and returns what it returns.
ok, err = xpcall(function() error({n = 1}) end, function(e) return "handled " .. e.n end)
assert.eq({ok, err}, {false, "handled 1"})
assert.eq({xpcall(function() return 1, 2 end, print)}, {true, 1, 2})
local tb
xpcall(function() error("deep") end, function(e) tb = debug.traceback(e) end)
assert.match(tb, "stack traceback")

-- Nested protection unwinds only as far as the innermost pcall.
local log = {}
ok = pcall(function()
  local inner = pcall(function() error("in") end)
  log[#log + 1] = inner
  error("out")
end)
assert.eq({ok, log}, {false, {false}})

-- gopher-lua's own pcall closes the upvalues of running functions when the
-- protected call fails; the engine's must not (luart.PCall).
do
  local n = 0
  local function inc() n = n + 1 end
  inc()
  assert.falsy(pcall(error, "x"))
  inc()
  assert.eq(n, 2)
end
