-- Add "region": "eu-west-1" to every user record that has none. Records are
-- JSON under users/; the scan pages through any number of them, and each
-- write is fenced by the migration lock.
local json = require("json")

return {
  description = "default region for every user record",
  up = function(m)
    for kv in m.scan("users/", {prefix = true}) do
      local rec = json.decode(kv.value)
      if rec.region == nil then
        rec.region = "eu-west-1"
        m.put(kv.key, json.encode(rec))
      end
    end
  end,
}
