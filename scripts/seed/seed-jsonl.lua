-- seed-jsonl.lua: bulk-load a JSON lines file into etcd with etcd.put_many.
--
-- Each line is one JSON object; its "id" field names the key (PREFIX..id) and
-- the whole line is the value. Batches of 128 puts go in one txn each, 8 in
-- flight; a progress bar shows on a terminal.
--
--   etcdscript run scripts/seed/seed-jsonl.lua users.jsonl users/
--   (make a test file: etcdscript run scripts/seed/make-jsonl.lua users.jsonl 100000)
local json = require("json")
local fs = require("fs")

local path, prefix = arg[1], arg[2] or "records/"
if not path then
  error("usage: seed-jsonl.lua FILE.jsonl [PREFIX]")
end

local lines = fs.lines(path)
local n = 0
local function items()
  local line = lines()
  while line == "" do line = lines() end
  if line == nil then return nil end
  n = n + 1
  local rec = json.decode(line)
  if rec.id == nil then
    error(string.format("%s:%d: record has no id", path, n))
  end
  return prefix .. tostring(rec.id), line
end

local r = etcd.put_many(items, {progress = true})
print(string.format("loaded %d records under %s (revision %d)", r.written, prefix, r.revision))
return r.written
