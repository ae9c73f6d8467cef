-- Tests of export-import.lua: a prefix to JSON lines and back, binary too.
local here = arg[0]:match("^(.*/)") or ""
local fs = require("fs")
local run = assert(loadfile(here .. "export-import.lua"))
local file = os.tmpname()

test("export writes one line per key", function()
  etcd.put("app/a", "1")
  etcd.put("app/b", "two words")
  etcd.put("app/bin", "\255\0\1")
  etcd.put("other", "x")
  assert.eq(run("export", "app/", file), 3)
  local n = 0
  for _ in fs.lines(file) do n = n + 1 end
  assert.eq(n, 3)
end)

test("import under a new prefix copies every value byte for byte", function()
  assert.eq(run("import", file, "copy/", "app/"), 3)
  for kv in etcd.scan("app/", {prefix = true}) do
    local copy = etcd.get("copy/" .. kv.key:sub(#"app/" + 1))
    assert.truthy(copy, kv.key .. " was not copied")
    assert.eq(copy.value, kv.value)
  end
  os.remove(file)
end)
