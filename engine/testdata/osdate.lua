-- os.date and os.time beyond the corpus of lua5.1's answers
-- (osdate_corpus.lua): local time, date tables, and os.time's checks.
local assert = require("assert")

-- A date table names the local time it came from.
for _, t in ipairs({0, 951782400, 1234567890, 1700000000}) do
  assert.eq(os.time(os.date("*t", t)), t, "os.time(os.date('*t', " .. t .. "))")
  local d = os.date("*t", t)
  assert.eq(os.date("%Y-%m-%d %H:%M:%S", t),
    string.format("%04d-%02d-%02d %02d:%02d:%02d", d.year, d.month, d.day, d.hour, d.min, d.sec))
  assert.eq(os.date("%j", t), string.format("%03d", d.yday))
end

-- os.time normalises as mktime does: month 14 of 2000 is February 2001,
-- and its day 40 is 12 March. Numbers may be given as strings.
assert.eq(os.time({year = 2000, month = 14, day = 40, hour = "3"}),
  os.time({year = 2001, month = 3, day = 12, hour = 3}))
-- The hour defaults to noon, minutes and seconds to 0.
assert.eq(os.time({year = 2000, month = 1, day = 1}) - os.time({year = 2000, month = 1, day = 1, hour = 0}), 43200)

-- year, month and day are required, as in Lua 5.1.
for _, field in ipairs({"year", "month", "day"}) do
  local t = {year = 2000, month = 1, day = 1}
  t[field] = nil
  local ok, err = pcall(os.time, t)
  assert.falsy(ok)
  assert.truthy(tostring(err):find("field '" .. field .. "' missing in date table", 1, true), tostring(err))
end

-- The current time, and defaults.
local now = os.time()
assert.truthy(math.abs(os.time(os.date("*t")) - now) <= 2)
assert.eq(type(os.date()), "string")
assert.eq(os.date("!%Y", 0), "1970")
-- Beyond what C's struct tm holds: nil, as in Lua 5.1.
assert.eq(os.date("!%Y", 2^60), nil)
assert.eq(os.date("!%Y", 1/0), nil)
