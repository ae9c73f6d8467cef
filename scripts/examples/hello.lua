-- hello.lua: the smallest etcdscript script. It writes a key and reads it back.
--
-- Run it against an in-process etcd, no server needed:
--   go run ./cmd/etcdscript run --embedded scripts/examples/hello.lua
-- or against your cluster:
--   etcdscript run --endpoints=127.0.0.1:2379 scripts/examples/hello.lua
local r = etcd.put("greeting", "hello, etcd")
-- etcd.get returns nil for a key that does not exist: test it before
-- reading its fields.
local kv = etcd.get("greeting")
if kv then
  print(kv.key .. " = " .. kv.value .. " (revision " .. r.revision .. ")")
else
  print("greeting is not set")
end
