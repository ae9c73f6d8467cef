-- A generic for over a field of a call's result: gopher-lua v1.1.2 loads
-- the key into the register that holds the call's result and indexes the
-- key by itself, so `for x in f().iter() do` called nil ("attempt to call a
-- non-function object"), or a string method when the key named one
-- (engine/jumpfix.go, hoistForExprs). Each shape runs from the main chunk,
-- from a function, and through load.
local assert = require("assert")

local function mk()
  return {
    iter = function() local i = 0 return function() i = i + 1 if i <= 3 then return i end end end,
    t = {1, 2, 3},
    a = {b = function() return ipairs({10, 20}) end},
  }
end

local function count(...)
  local n = 0
  for _ in ... do n = n + 1 end
  return n
end

local shapes = {
  {"field call", function() local n = 0 for x in mk().iter() do n = n + x end return n end, 6},
  {"index call", function() local n = 0 for x in mk()["iter"]() do n = n + x end return n end, 6},
  {"nested fields", function() local n = 0 for _, v in mk().a.b() do n = n + v end return n end, 30},
  {"method on a call", function()
    local o = {new = function() return {it = function(self) return ipairs({5, 6}) end} end}
    local n = 0 for _, v in o.new():it() do n = n + v end return n end, 11},
  {"pcall's result", function() local n = 0 for x in select(2, pcall(mk)).iter() do n = n + x end return n end, 6},
  {"field of a field of a call, as argument", function() local n = 0 for _, v in ipairs(mk().t) do n = n + v end return n end, 6},
  {"string method by name", function() local n = 0 for w in ("a b c"):gmatch("%a") do n = n + 1 end return n end, 3},
  {"break in the body", function() local n = 0 for x in mk().iter() do n = x break end return n end, 1},
  {"nested loops", function()
    local n = 0
    for x in mk().iter() do for y in mk().iter() do n = n + x * y end end
    return n end, 36},
}

for _, s in ipairs(shapes) do
  local name, fn, want = s[1], s[2], s[3]
  assert.eq(fn(), want, name)
end

-- The same from the main chunk of a loaded string.
local src = [[
  local function mk() return {iter = function() local i = 0 return function() i = i + 1 if i <= 2 then return i end end end} end
  local n = 0
  for x in mk().iter() do n = n + x end
  return n
]]
assert.eq(assert(loadstring(src))(), 3, "loadstring")
assert.eq(assert(load(src))(), 3, "load")

-- The loop's variables stay its own; a local of the same name outside is untouched.
local x = "outer"
for x in mk().iter() do end
assert.eq(x, "outer")
