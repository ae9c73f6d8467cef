-- Move every feature flag from flags/ to flags/v2/, keeping values and leases.
-- Atomic: the copies and the deletes commit in one txn with the bookkeeping,
-- or not at all (a few hundred flags at most fit in one txn).
return {
  description = "move feature flags under flags/v2/",
  atomic = true,
  up = function(m)
    local r = m.range("flags/", {prefix = true})
    for _, kv in ipairs(r.kvs) do
      if kv.key:sub(1, 9) ~= "flags/v2/" then
        m.put("flags/v2/" .. kv.key:sub(7), kv.value, {lease = kv.lease})
        m.delete(kv.key)
      end
    end
  end,
  down = function(m)
    local r = m.range("flags/v2/", {prefix = true})
    for _, kv in ipairs(r.kvs) do
      m.put("flags/" .. kv.key:sub(10), kv.value, {lease = kv.lease})
      m.delete(kv.key)
    end
  end,
}
