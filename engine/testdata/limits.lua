-- The built-ins that allocate in proportion to an argument (string.rep,
-- string.format, table.concat, unpack) give Lua's results, and refuse what
-- they cannot do with an error object naming the function.
local assert = require("assert")

-- string.rep
assert.eq(string.rep("ab", 3), "ababab")
assert.eq(string.rep("x", 0), "")
assert.eq(string.rep("x", -5), "")
assert.eq(string.rep("", 1e12), "")
assert.eq(#string.rep("xyz", 1e5 + 1), 3 * (1e5 + 1))
assert.eq(string.rep("x", 2.9), "xx")
assert.eq(("-"):rep(4), "----")

-- string.format: Lua's specs, C's output.
assert.eq(string.format("%d|%5d|%-5d|%05d|%+d", 42, 42, 42, 42, 42), "42|   42|42   |00042|+42")
assert.eq(string.format("%i %u", 3.9, 7), "3 7")
assert.eq(string.format("%x %X %o %#x", 255, 255, 8, 255), "ff FF 10 0xff")
assert.eq(string.format("%x", -1), "ffffffffffffffff")
assert.eq(string.format("%5.2f|%e|%g|%g|%g", 3.14159, 1234.5, 0.1, 1 / 3, 1e20), " 3.14|1.234500e+03|0.1|0.333333|1e+20")
assert.eq(string.format("%c%c", 72, 105), "Hi")
assert.eq(string.format("%q", 'a "b"\n\\\r\0'), '"a \\"b\\"\\\n\\\\\\r\\000"')
assert.eq(string.format("%s %s %s %s", 1, "s", true, nil), "1 s true nil")
assert.eq(string.format("[%5s][%-5s][%.2s]", "ab", "ab", "abcdef"), "[   ab][ab   ][ab]")
assert.eq(string.format("100%%"), "100%")
assert.eq(string.format("%d", "12"), "12")
assert.eq(string.format("%5.1s|", "héllo"), "    h|")

-- %s uses __tostring for every value: tables, and error objects (issue 13).
local obj = setmetatable({}, {__tostring = function() return "an object" end})
assert.eq(string.format("<%s>", obj), "<an object>")
local ok, err = pcall(error, "plain")
assert.eq(string.format("%s", err), err)
ok, err = pcall(os.exit, "not a code")
assert.falsy(ok)
assert.eq(string.format("%s", err), tostring(err))
assert.match(string.format("%s", err), "^os.exit: bad argument")
assert.eq(string.format("%s", err), "" .. err)

-- Widths and precisions have at most two digits, as in Lua; other bad
-- formats say what is wrong.
err = assert.error(function() return string.format("%999999999d", 1) end, "invalid_argument")
assert.match(tostring(err), "width or precision too long")
err = assert.error(function() return string.format("%.100f", 1) end, "invalid_argument")
assert.match(tostring(err), "width or precision too long")
err = assert.error(function() return string.format("%y", 1) end, "invalid_argument")
assert.match(tostring(err), "invalid option '%%y'")
err = assert.error(function() return string.format("%d") end, "invalid_argument")
assert.match(tostring(err), "number expected, got no value")
err = assert.error(function() return string.format("%d", {}) end, "invalid_argument")
assert.match(tostring(err), "number expected, got table")
assert.error(function() return string.format("%s") end, "invalid_argument")
assert.error(function() return string.format("abc%") end, "invalid_argument")

-- table.concat
assert.eq(table.concat({1, 2, 3}), "123")
assert.eq(table.concat({"a", "b", "c"}, ", "), "a, b, c")
assert.eq(table.concat({"a", "b", "c"}, "-", 2), "b-c")
assert.eq(table.concat({"a", "b", "c"}, "-", 2, 2), "b")
assert.eq(table.concat({"a", "b", "c"}, "-", 3, 2), "")
assert.eq(table.concat({}), "")
local many = {}
for i = 1, 100000 do many[i] = "s" end
assert.eq(#table.concat(many, ","), 199999)
err = assert.error(function() return table.concat({1, {}, 3}) end, "invalid_argument")
assert.match(tostring(err), "invalid value %(table%) at index 2")
err = assert.error(function() return table.concat({}, "", 1, 1e9) end, "invalid_argument")
assert.match(tostring(err), "invalid value %(nil%) at index 1")

-- unpack
assert.eq({unpack({1, 2, 3})}, {1, 2, 3})
assert.eq({unpack({1, 2, 3}, 2)}, {2, 3})
assert.eq(select("#", unpack({}, 1, 3)), 3)
assert.eq(select("#", unpack({1, 2}, 3, 2)), 0)
assert.eq(select("#", unpack({}, 1, 1e5)), 1e5)
err = assert.error(function() return unpack({}, 1, 1e9) end, "invalid_argument")
assert.match(tostring(err), "too many results to unpack")
assert.error(function() return unpack({}, -2^62, 2^62) end, "invalid_argument")

-- Coroutines may nest, to a bound (the bound itself is tested from Go: it
-- ends the run).
local function nest(n)
  if n == 0 then return "bottom" end
  return coroutine.wrap(function() return nest(n - 1) end)()
end
assert.eq(nest(150), "bottom")

-- string.byte: Lua 5.1's positions, many results at once.
assert.eq({string.byte("abc")}, {97})
assert.eq({string.byte("abc", 2)}, {98})
assert.eq({string.byte("abc", 1, -1)}, {97, 98, 99})
assert.eq({string.byte("abc", -2, 10)}, {98, 99})
assert.eq(select("#", string.byte("abc", 3, 2)), 0)
assert.eq(select("#", string.byte("", 1)), 0)
assert.eq(select("#", string.byte(string.rep("x", 1e5), 1, -1)), 1e5)

-- Many values into and out of a coroutine.
local co = coroutine.wrap(function(...) return select("#", ...) end)
assert.eq(co(unpack({}, 1, 8192)), 8192)
err = assert.error(function() return co(unpack({}, 1, 1e5)) end, "invalid_argument")
assert.match(tostring(err), "too many values passed to a coroutine")
err = assert.error(function() return coroutine.resume(coroutine.create(print), unpack({}, 1, 1e5)) end, "invalid_argument")
