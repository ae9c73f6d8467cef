-- Split the JSON document at config/service into one key per setting, so
-- that each setting can be watched and changed on its own: a string setting
-- is stored as it is, any other as its JSON text (8080, ["a","b"], true).
--
-- Reversible byte for byte: up keeps the document as it was under
-- backup/0002/config/service. down puts that text back when the settings
-- are still what up wrote; when someone changed them since, it rebuilds
-- the document from them, each setting with the JSON type it had.
local json = require("json")

local DOC, PREFIX, BACKUP = "config/service", "config/service/", "backup/0002/config/service"

-- The value up stores for a setting of the document.
local function stored(v)
  if type(v) == "string" then return v end
  return json.encode(v)
end

-- The settings under PREFIX, name -> value.
local function settings(m)
  local out = {}
  for kv in m.scan(PREFIX, {prefix = true}) do
    out[kv.key:sub(#PREFIX + 1)] = kv.value
  end
  return out
end

-- value as a setting that was not a string: its JSON, unless it no longer
-- parses (then the text itself).
local function typed(value)
  local ok, v = pcall(json.decode, value)
  if ok then return v end
  return value
end

return {
  description = "split config/service JSON into config/service/<name> keys",
  up = function(m)
    local kv = m.get(DOC)
    if kv == nil then return end
    local doc = json.decode(kv.value)
    m.put(BACKUP, kv.value)
    local names = {}
    for name in pairs(doc) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      m.put(PREFIX .. name, stored(doc[name]))
    end
    m.delete(DOC)
  end,
  down = function(m)
    local current = settings(m)
    local backup = m.get(BACKUP)
    local orig = backup and json.decode(backup.value)
    local text
    if orig ~= nil then
      local unchanged = true
      for name, v in pairs(orig) do
        if current[name] ~= stored(v) then unchanged = false end
      end
      for name in pairs(current) do
        if orig[name] == nil then unchanged = false end
      end
      if unchanged then
        text = backup.value
      else
        local doc = {}
        for name, value in pairs(current) do
          if orig[name] ~= nil and type(orig[name]) ~= "string" then
            doc[name] = typed(value)
          else
            doc[name] = value
          end
        end
        text = json.encode(doc)
      end
      m.delete(BACKUP)
    elseif next(current) ~= nil then
      -- Applied by a version of this file that kept no backup: a value
      -- that parses as JSON other than a string was one.
      local doc = {}
      for name, value in pairs(current) do
        local v = typed(value)
        if type(v) == "string" then v = value end
        doc[name] = v
      end
      text = json.encode(doc)
    end
    if text ~= nil then
      m.put(DOC, text)
    end
    m.delete(PREFIX, {prefix = true})
  end,
}
