-- put_many.lua PREFIX N VALUE_BYTES: the bulk load of BENCHMARKS.md. It
-- writes N keys named PREFIX..%08d (1-based, as the Go baseline in
-- bench/putloop_test.go names them) with etcd.put_many's defaults: txns of
-- 128 puts, 8 in flight.
if etcd.put_many == nil then
  -- The harness reads this prefix to mark the row pending, not failed.
  error("pending: this etcdscript has no etcd.put_many yet")
end
local args = arg or {...}
local prefix, n, size = args[1], tonumber(args[2]), tonumber(args[3])
if prefix == nil or n == nil or size == nil then
  error("usage: put_many.lua PREFIX N VALUE_BYTES")
end
local value = string.rep("v", size)
local i = 0
local r = etcd.put_many(function()
  i = i + 1
  if i <= n then
    return string.format("%s%08d", prefix, i), value
  end
end)
if r.written ~= n then
  error(string.format("put_many wrote %d keys, want %d", r.written, n))
end
