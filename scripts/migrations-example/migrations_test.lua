-- Tests of the example migrations: up, down and up again leave the data
-- byte for byte as the first up did, and down restores the seed.
local migrate = require("migrate")
local json = require("json")
-- A relative directory is found beside this file: "." is this directory.
local here = "."

-- data returns every key and value outside the migrations' own state.
local function data()
  local out = {}
  for _, kv in ipairs(etcd.range("", {from_key = true}).kvs) do
    if kv.key:sub(1, #"/etcdscript/") ~= "/etcdscript/" then out[kv.key] = kv.value end
  end
  return out
end

-- The data the migrations expect, in its pre-migration shape.
etcd.put("flags/dark-mode", "on")
etcd.put("flags/beta", "off")
etcd.put("config/service", json.encode({port = 8080, name = "api", tags = json.array({"a", "b"})}))
etcd.put("users/1", json.encode({name = "ann"}))
etcd.put("users/2", json.encode({name = "bob", region = "us-east-1"}))
local seed = data()

test("up applies every migration", function()
  local done = migrate.up(here)
  assert.eq(#done, 3)
  assert.eq(etcd.get("flags/v2/dark-mode").value, "on")
  assert.falsy(etcd.get("flags/dark-mode"))
  assert.eq(etcd.get("config/service/port").value, "8080")
  assert.eq(json.decode(etcd.get("users/1").value).region, "eu-west-1")
  assert.eq(json.decode(etcd.get("users/2").value).region, "us-east-1")
  assert.truthy(migrate.status(here).clean)
end)

test("down all restores the seed, up again gives the same data", function()
  local after_up = data()
  migrate.down(here, {all = true})
  assert.eq(data(), seed)
  assert.eq(migrate.status(here).head, 0)
  migrate.up(here)
  assert.eq(data(), after_up)
end)
