-- Add "region": "eu-west-1" to every user record that has none. Records are
-- JSON under users/; the scan pages through any number of them, and each
-- write is fenced by the migration lock.
--
-- Reversible byte for byte: up keeps each record it changes, as it was and
-- as it wrote it, under backup/0003/<key>. down puts back each record that
-- is still as up wrote it, and from one changed since removes only the
-- region up added.
local json = require("json")

local REGION, BACKUP = "eu-west-1", "backup/0003/"

return {
  description = "default region for every user record",
  up = function(m)
    for kv in m.scan("users/", {prefix = true}) do
      local rec = json.decode(kv.value)
      if rec.region == nil then
        rec.region = REGION
        local after = json.encode(rec)
        m.put(BACKUP .. kv.key, json.encode({before = kv.value, after = after}))
        m.put(kv.key, after)
      end
    end
  end,
  down = function(m)
    for b in m.scan(BACKUP, {prefix = true}) do
      local key = b.key:sub(#BACKUP + 1)
      local saved = json.decode(b.value)
      local cur = m.get(key)
      if cur ~= nil and cur.value == saved.after then
        m.put(key, saved.before)
      elseif cur ~= nil then
        local rec = json.decode(cur.value)
        if rec.region == REGION then
          rec.region = nil
          m.put(key, json.encode(rec))
        end
      end
      m.delete(b.key)
    end
  end,
}
