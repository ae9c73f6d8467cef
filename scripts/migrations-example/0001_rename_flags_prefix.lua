-- Move every feature flag from flags/ to flags/v2/, keeping values and leases.
-- Atomic: the copies and the deletes commit in one txn with the bookkeeping,
-- or not at all. A txn holds at most 128 operations and each flag takes two
-- (a put and a delete), so this fits about 60 flags; more need a
-- non-atomic migration.
--
-- Reversible: up records the names it moved under backup/0001/moved, and
-- down moves back those and no others, so flags that were already under
-- flags/v2/ stay there. A flag present under both names is refused rather
-- than overwritten.
local json = require("json")

local MOVED = "backup/0001/moved"

return {
  description = "move feature flags under flags/v2/",
  atomic = true,
  up = function(m)
    local moved = {}
    for _, kv in ipairs(m.range("flags/", {prefix = true}).kvs) do
      local name = kv.key:sub(#"flags/" + 1)
      if kv.key:sub(1, #"flags/v2/") ~= "flags/v2/" then
        if m.get("flags/v2/" .. name) ~= nil then
          error("flags/" .. name .. " and flags/v2/" .. name .. " both exist: merge them by hand first")
        end
        m.put("flags/v2/" .. name, kv.value, {lease = kv.lease})
        m.delete(kv.key)
        moved[#moved + 1] = name
      end
    end
    if #moved > 0 then
      m.put(MOVED, json.encode(moved))
    end
  end,
  down = function(m)
    local rec = m.get(MOVED)
    local names = {}
    if rec ~= nil then
      names = json.decode(rec.value)
      m.delete(MOVED)
    else
      -- Applied by a version of this file that kept no record: every flag
      -- under flags/v2/ came from flags/.
      for _, kv in ipairs(m.range("flags/v2/", {prefix = true}).kvs) do
        names[#names + 1] = kv.key:sub(#"flags/v2/" + 1)
      end
    end
    for _, name in ipairs(names) do
      local kv = m.get("flags/v2/" .. name)
      if kv ~= nil then
        m.put("flags/" .. name, kv.value, {lease = kv.lease})
        m.delete(kv.key)
      end
    end
  end,
}
