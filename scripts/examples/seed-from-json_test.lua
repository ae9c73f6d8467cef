-- Tests of seed-from-json.lua with the example data beside it.
local here = arg[0]:match("^(.*/)") or ""
local json = require("json")
local seed = assert(loadfile(here .. "seed-from-json.lua"))

test("seeds one key per leaf of seed-data.json", function()
  local r = seed(here .. "seed-data.json", "seed/")
  local doc = json.decode(require("fs").read(here .. "seed-data.json"))
  local leaves = 0
  local function count(v)
    if type(v) == "table" then
      for _, x in pairs(v) do count(x) end
    elseif v ~= json.null then
      leaves = leaves + 1
    end
  end
  count(doc)
  assert.eq(r.written, leaves)
  assert.eq(r.prefix, "seed/")
  assert.eq(etcd.range("seed/", {prefix = true, count_only = true}).count, leaves)
end)

test("a second prefix keeps the first", function()
  seed(here .. "seed-data.json", "copy/")
  assert.eq(etcd.range("copy/", {prefix = true, count_only = true}).count,
            etcd.range("seed/", {prefix = true, count_only = true}).count)
end)
