-- export-import.lua: copy a prefix to a JSON lines file and back.
--
-- Shows: etcd.scan (all pages read at one revision, memory bounded by a
-- page; the iterator's revision field says which, so a follower can watch
-- from revision + 1 and miss nothing), json encoding with a base64 fallback
-- for binary data, fs for files, and put_many to load. One line per key: {"key": ..., "value": ...}, or
-- key_b64 / value_b64 where a key or value is not UTF-8 text.
--
-- Run it:
--   etcdscript run scripts/examples/export-import.lua export app/ app.jsonl
--   etcdscript run scripts/examples/export-import.lua import app.jsonl [NEW_PREFIX OLD_PREFIX]
-- import with NEW_PREFIX and OLD_PREFIX writes each key with OLD_PREFIX
-- replaced by NEW_PREFIX (a copy under another name).
local json = require("json")
local base64 = require("base64")
local fs = require("fs")

local mode = ...

-- field adds s to the record as name, or base64 as name_b64 when it is
-- not text.
local function field(rec, name, s)
  if pcall(json.encode, s) then rec[name] = s else rec[name .. "_b64"] = base64.encode(s) end
end

local function get(rec, name)
  if rec[name .. "_b64"] then return base64.decode(rec[name .. "_b64"]) end
  return rec[name]
end

if mode == "export" then
  local _, prefix, file = ...
  assert(prefix and file, "usage: export-import.lua export PREFIX FILE")
  local lines = {}
  local keys = etcd.scan(prefix, {prefix = true})
  for kv in keys do
    local rec = {}
    field(rec, "key", kv.key)
    field(rec, "value", kv.value)
    lines[#lines + 1] = json.encode(rec)
  end
  fs.write(file, table.concat(lines, "\n") .. (#lines > 0 and "\n" or ""))
  print(string.format("exported %d keys under %s at revision %d to %s", #lines, prefix, keys.revision, file))
  return #lines, keys.revision
elseif mode == "import" then
  local _, file, new_prefix, old_prefix = ...
  assert(file, "usage: export-import.lua import FILE [NEW_PREFIX OLD_PREFIX]")
  local items = {}
  for line in fs.lines(file) do
    if line ~= "" then
      local rec = json.decode(line)
      local key = get(rec, "key")
      if new_prefix and old_prefix and key:sub(1, #old_prefix) == old_prefix then
        key = new_prefix .. key:sub(#old_prefix + 1)
      end
      items[#items + 1] = {key, get(rec, "value")}
    end
  end
  local r = etcd.put_many(items)
  print(string.format("imported %d keys from %s", r.written, file))
  return r.written
else
  io.stderr:write("usage: export-import.lua export PREFIX FILE | import FILE [NEW_PREFIX OLD_PREFIX]\n")
  os.exit(128)
end
