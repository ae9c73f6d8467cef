-- make-jsonl.lua: write N fake user records as JSON lines, for seed-jsonl.lua.
--
--   etcdscript run scripts/seed/make-jsonl.lua users.jsonl 100000
local json = require("json")
local fs = require("fs")

local path, count = arg[1], tonumber(arg[2] or "100000")
if not path then error("usage: make-jsonl.lua FILE.jsonl [COUNT]") end

local regions = {"eu-west-1", "us-east-1", "ap-south-1"}
local out = {}
for i = 1, count do
  out[#out + 1] = json.encode({id = string.format("%07d", i), name = "user" .. i,
                               region = regions[i % #regions + 1], active = i % 7 ~= 0})
end
out[#out + 1] = ""
fs.write(path, table.concat(out, "\n"))
print(string.format("wrote %d records to %s", count, path))
