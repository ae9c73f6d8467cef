-- Tests of hello.lua: `etcdscript test scripts/examples` runs them, each file
-- against an etcd of its own (arg[0] is this file's path).
local here = arg[0]:match("^(.*/)") or ""

test("writes the greeting and reads it back", function()
  assert(loadfile(here .. "hello.lua"))()
  local kv = etcd.get("greeting")
  assert.truthy(kv, "greeting was not written")
  assert.eq(kv.value, "hello, etcd")
  assert.eq(kv.version, 1)
end)
