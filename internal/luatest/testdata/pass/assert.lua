-- Every assertion, passing.
assert.eq(1, 1)
assert.eq("a", "a")
assert.eq({1, {a = "x"}, b = true}, {1, {a = "x"}, b = true}, "deep")
assert.eq(nil, nil)
local t = {}
assert.eq(t, t)
local cyc1, cyc2 = {}, {}
cyc1.self, cyc2.self = cyc1, cyc2
assert.eq(cyc1, cyc2, "cycles compare without looping")
assert.ne(1, 2)
assert.ne({1}, {2})
assert.ne({1}, {1, 2})
assert.ne({1, 2}, {1})
assert.ne("1", 1)
assert.truthy(0)
assert.truthy("")
assert.falsy(nil)
assert.falsy(false)
assert.near(0.1 + 0.2, 0.3, 1e-9)
assert.match("etcd.put: x", "^etcd%.put")

local e = assert.error(function() error("boom") end)
assert.match(e, "boom$")
assert.error(function() error("bad argument #2 (value)") end, "bad argument #2 (value)")
assert.error(function() error("abc123") end, "%d+")
local obj = {}
assert.truthy(rawequal(assert.error(function() error(obj) end), obj))

-- assert stays Lua's assert too.
local a, b = assert(1, "unused")
assert.eq(a, 1)
assert.eq(b, "unused")
assert.error(function() assert(false, "custom") end, "custom")
assert.error(function() assert(nil) end, "assertion failed!")
assert.truthy(require("assert").eq)

local ran = {}
test("first", function() ran[#ran + 1] = "first" end)
test("second", function() ran[#ran + 1] = "second" end)
assert.eq(ran, {"first", "second"})

-- A closure keeps sharing its local with this chunk after a failure.
local n = 0
local function inc() n = n + 1 end
inc()
assert.error(function() error("x") end)
inc()
assert.eq(n, 2)
