-- Lua 5.1 behaviours that gopher-lua lacks and the engine restores (os.date
-- and tonumber have corpora of their own).
local assert = require("assert")

-- string.char: bytes 0 to 255, numeric strings taken as numbers, fractions
-- dropped; anything else is an error that says so (gopher-lua wrapped 256
-- to "\0" and -1 to "\255").
assert.eq(string.char(), "")
assert.eq(string.char(104, 105), "hi")
assert.eq(string.char(0, 255), "\0\255")
assert.eq(string.char(65.7), "A")
assert.eq(string.char("66"), "B")
for _, bad in ipairs({256, -1, 1e10, 0/0}) do
  local ok, err = pcall(string.char, 72, bad)
  assert.falsy(ok)
  assert.truthy(tostring(err):find("bad argument #2", 1, true), tostring(err))
  assert.truthy(tostring(err):find("is not a byte (0 to 255)", 1, true), tostring(err))
end
assert.falsy(pcall(string.char, "x"))

-- rawset returns its table.
local t = {}
assert.eq(rawset(t, "k", "v"), t)
assert.eq(t.k, "v")
assert.falsy(pcall(rawset, 1, "k", "v"))
assert.falsy(pcall(rawset, {}, nil, "v"))

-- table.insert takes 2 or 3 arguments; setmetatable a table.
local ok, err = pcall(table.insert, {}, 1, 2, 3)
assert.falsy(ok)
assert.truthy(tostring(err):find("wrong number of arguments to 'insert'", 1, true), tostring(err))
assert.falsy(pcall(table.insert, {}))
local list = {"b"}
table.insert(list, 1, "a")
table.insert(list, "c")
assert.eq(table.concat(list, ","), "a,b,c")
assert.falsy(pcall(setmetatable, 1, {}))
local mt = {}
assert.eq(getmetatable(setmetatable({}, mt)), mt)
