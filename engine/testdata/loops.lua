-- Loops gopher-lua v1.1.2 miscompiles on its own: a generic for whose body
-- is only `break`, after an earlier loop, jumped to a random instruction
-- or crashed the VM (engine/chunks.go, fixTForLoops). Each shape runs from
-- the main chunk, from a function, and through load.
local assert = require("assert")

local shapes = {
  -- numeric for, then a generic for of one break
  [[
    local n = 0
    for i = 1, 3 do n = n + 1 end
    for k, v in pairs({a = 1}) do break end
    n = n + 10
    return n
  ]],
  [[
    local n = 0
    for i = 1, 3 do n = n + 1 end
    for k, v in pairs({a = 1}) do break end
    return n + 10
  ]],
  -- two generic fors, and ipairs
  [[
    local t, n = {1, 2, 3}, 0
    for _, v in ipairs(t) do n = n + v end
    for _, v in ipairs(t) do break end
    local after = "after"
    return n + #after + 2
  ]],
  -- nested: the inner loop's only statement is break
  [[
    local n = 0
    for i = 1, 2 do
      for j = 1, 2 do n = n + 1 end
      for k in pairs({x = 1, y = 2}) do break end
      n = n + 0.5
    end
    return n + 8
  ]],
  -- an empty table: the loop body never runs
  [[
    local n = 13
    for i = 1, 3 do end
    for k in pairs({}) do break end
    return n
  ]],
}

for i, src in ipairs(shapes) do
  local f, err = load(src, "shape" .. i)
  assert.truthy(f, err)
  assert.eq(f(), 13, "shape " .. i .. " through load")
  local g, err = loadstring(src, "shape" .. i)
  assert.truthy(g, err)
  assert.eq(g(), 13, "shape " .. i .. " through loadstring")
  local pieces = {src}
  local h, err = load(function() return table.remove(pieces) end, "shape" .. i)
  assert.truthy(h, err)
  assert.eq(h(), 13, "shape " .. i .. " through load of a reader")
end

-- The same shapes in this file's own code.
local function inline()
  local n = 0
  for i = 1, 3 do n = n + 1 end
  for k, v in pairs({a = 1}) do break end
  n = n + 10
  return n
end
assert.eq(inline(), 13)

local n = 0
for i = 1, 3 do n = n + 1 end
for k, v in pairs({a = 1}) do break end
n = n + 10
assert.eq(n, 13)
