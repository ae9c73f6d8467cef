-- What a sandboxed script (the engine's default) may and may not reach.
local assert = require("assert")

local blocked = {
  {"io.open", function() return io.open("/etc/hostname") end},
  {"io.popen", function() return io.popen("true") end},
  {"io.tmpfile", function() return io.tmpfile() end},
  {"io.lines", function() return io.lines("/etc/hostname") end},
  {"io.input", function() return io.input("/etc/hostname") end},
  {"io.output", function() return io.output("/tmp/out") end},
  {"os.execute", function() return os.execute("true") end},
  {"os.remove", function() return os.remove("/tmp/x") end},
  {"os.rename", function() return os.rename("/tmp/x", "/tmp/y") end},
  {"os.tmpname", function() return os.tmpname() end},
  {"os.getenv", function() return os.getenv("PATH") end},
  {"loadfile", function() return loadfile("/etc/hostname") end},
  {"dofile", function() return dofile("/etc/hostname") end},
  {"require", function() return require("fs") end},
}
for _, case in ipairs(blocked) do
  local name, fn = case[1], case[2]
  local err = assert.error(fn, "permission_denied", name)
  assert.eq(err.op, name)
  assert.match(tostring(err), "sandbox")
end

-- Gone in every run: they act on the whole host process.
for _, name in ipairs({"collectgarbage", "_printregs"}) do
  assert.eq(_G[name], nil, name)
end
assert.eq(os.setenv, nil)
assert.eq(os.setlocale, nil)

-- The standard streams are the engine's.
assert.eq(io.type(io.stdout), "file")
assert.eq(io.stdout:write(""), io.stdout)
assert.eq(io.output(), io.stdout)

-- The stdlib (but fs) is there.
for _, name in ipairs({"json", "yaml", "base64", "time", "log", "env", "strings", "retry", "progress"}) do
  assert.truthy(require(name), name)
end
