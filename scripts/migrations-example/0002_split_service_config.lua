-- Split the JSON document at config/service into one key per setting, so
-- that each setting can be watched and changed on its own.
local json = require("json")

return {
  description = "split config/service JSON into config/service/<name> keys",
  up = function(m)
    local kv = m.get("config/service")
    if kv == nil then return end
    local doc = json.decode(kv.value)
    local names = {}
    for name in pairs(doc) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local v = doc[name]
      if type(v) ~= "string" then v = json.encode(v) end
      m.put("config/service/" .. name, v)
    end
    m.delete("config/service")
  end,
  down = function(m)
    local doc = {}
    for kv in m.scan("config/service/", {prefix = true}) do
      doc[kv.key:sub(#"config/service/" + 1)] = kv.value
    end
    m.put("config/service", json.encode(doc))
    m.delete("config/service/", {prefix = true})
  end,
}
