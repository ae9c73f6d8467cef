-- get_one.lua KEY: the one-get script of BENCHMARKS.md, timed as a whole
-- process against `etcdctl get KEY`. It prints the value, as etcdctl does.
local args = arg or {...}
local kv = etcd.get(args[1] or "bench/oneget")
if kv == nil then
  error("no value at " .. tostring(args[1]))
end
print(kv.value)
