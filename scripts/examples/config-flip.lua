-- config-flip.lua: flip a setting between two values with a compare-and-swap.
--
-- Shows: a transaction that writes only if nobody changed the key since it
-- was read (mod_revision compare), retried when it loses the race, and
-- etcd.cmp / etcd.op. A missing key is created with the first value.
--
-- Run it:
--   etcdscript run --embedded scripts/examples/config-flip.lua
--   etcdscript run scripts/examples/config-flip.lua cfg/mode blue green
local key, a, b = ...
key, a, b = key or "cfg/mode", a or "blue", b or "green"

for attempt = 1, 10 do
  local kv = etcd.get(key)
  local old = kv and kv.value
  local new = (old == a) and b or a
  -- An absent key has mod_revision 0: the same compare covers "still absent".
  local seen = kv and kv.mod_revision or 0
  local r = etcd.txn()
    :compare(etcd.cmp.mod_revision(key, "==", seen))
    :success(etcd.op.put(key, new))
    :failure(etcd.op.get(key))
    :commit()
  if r.succeeded then
    print(string.format("%s: %s -> %s (revision %d)", key, old or "(unset)", new, r.revision))
    return {key = key, old = old, new = new, revision = r.revision}
  end
  print(string.format("%s changed under us (attempt %d), trying again", key, attempt))
end
error("could not flip " .. key .. ": too much contention")
