-- seed-from-json.lua: load a JSON document into etcd, one key per leaf.
--
-- Shows: reading a file (fs), decoding JSON, flattening nested objects into
-- keys, and bulk loading with etcd.put_many (atomic batches, many in flight).
-- {"services": {"api": {"port": 8080}}} becomes the key PREFIX/services/api/port
-- with the value "8080"; an array becomes keys 1, 2, ... under its path.
--
-- Run it (the data file is beside the script):
--   etcdscript run --embedded scripts/examples/seed-from-json.lua scripts/examples/seed-data.json
--   etcdscript run scripts/examples/seed-from-json.lua data.json app/   # under app/ instead of seed/
local json = require("json")
local fs = require("fs")

local file, prefix = ...
if not file then
  io.stderr:write("usage: seed-from-json.lua FILE.json [PREFIX]\n")
  os.exit(128)
end
prefix = prefix or "seed/"

local doc = json.decode(fs.read(file))

-- flatten walks the document depth first; keys are sorted so the order of
-- the writes (and of the report) does not depend on Lua's table order.
local items = {}
local function flatten(path, v)
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      flatten(path .. (path == "" and "" or "/") .. tostring(k), v[k])
    end
  elseif v ~= json.null then
    items[#items + 1] = {prefix .. path, tostring(v)}
  end
end
flatten("", doc)

local r = etcd.put_many(items, {batch = 64})
print(string.format("seeded %d keys under %s at revision %d", r.written, prefix, r.revision))
return {written = r.written, revision = r.revision, prefix = prefix}
