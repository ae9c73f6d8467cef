-- After the main chunk returns, the run goes on while a watch is active,
-- and ends when the last one is cancelled.
local assert = require("assert")
local p = ...
local got = {}
local w
w = etcd.watch(p, {prefix = true}, function(ev)
  got[#got + 1] = ev.kv.value
  if #got == 3 then
    assert.eq(got, {"1", "2", "3"})
    w:cancel()
  end
end)
for i = 1, 3 do etcd.put(p .. i, tostring(i)) end
