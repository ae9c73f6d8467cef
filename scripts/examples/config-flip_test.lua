-- Tests of config-flip.lua: a compare-and-swap between two values.
local here = arg[0]:match("^(.*/)") or ""
local flip = assert(loadfile(here .. "config-flip.lua"))

test("an absent key gets the first value", function()
  local r = flip("cfg/mode", "blue", "green")
  assert.eq(r.old, nil)
  assert.eq(r.new, "blue")
  assert.eq(etcd.get("cfg/mode").value, "blue")
end)

test("each run flips the value", function()
  assert.eq(flip("cfg/mode", "blue", "green").new, "green")
  assert.eq(flip("cfg/mode", "blue", "green").new, "blue")
  local kv = etcd.get("cfg/mode")
  assert.eq(kv.value, "blue")
  assert.eq(kv.version, 3)
end)

test("a value that is neither becomes the first", function()
  etcd.put("cfg/other", "red")
  local r = flip("cfg/other", "blue", "green")
  assert.eq(r.old, "red")
  assert.eq(r.new, "blue")
end)
