-- Generates ../patterns_corpus.lua: cases of string.find, match, gmatch and
-- gsub with the results the reference Lua 5.1 interpreter gives for them.
-- Run it with Lua 5.1 itself, from the engine directory:
--
--   lua5.1 testdata/gen/patterns_gen.lua > testdata/patterns_corpus.lua
--
-- The corpus carries its own runner (core below), which calls the same
-- functions with the same arguments in the engine and compares the
-- serialized results. The serializer uses no pattern function, so that it
-- cannot share a defect with what it checks.

local core = [==[
local function esc(s)
  local out = {}
  for i = 1, #s do
    local b = string.byte(s, i)
    if b >= 32 and b < 127 and b ~= 92 then
      out[#out + 1] = string.char(b)
    else
      out[#out + 1] = "\\" .. tostring(b) .. ";"
    end
  end
  return table.concat(out)
end

-- ser renders the results of a pcall: the values, or the error message
-- without its position (what follows the last ": ").
local function ser(ok, ...)
  if not ok then
    local msg = tostring((...))
    local cut, i = 0, 1
    while true do
      local j = string.find(msg, ": ", i, true)
      if not j then break end
      cut, i = j + 1, j + 1
    end
    return "error " .. esc(string.sub(msg, cut + 1))
  end
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "string" then
      parts[#parts + 1] = '"' .. esc(v) .. '"'
    elseif type(v) == "number" then
      parts[#parts + 1] = string.format("%.14g", v)
    else
      parts[#parts + 1] = tostring(v)
    end
  end
  return table.concat(parts, ",")
end

local function collect(s, p)
  local it = string.gmatch(s, p)
  local out = {}
  for _ = 1, 200 do
    local r = {n = 0}
    local function keep(...)
      r.n = select("#", ...)
      for i = 1, r.n do r[i] = select(i, ...) end
    end
    keep(it())
    if r.n == 0 or r[1] == nil then break end
    out[#out + 1] = "{" .. ser(true, unpack(r, 1, r.n)) .. "}"
  end
  return table.concat(out)
end

local repls = {
  tbl = {a = "[A]", b = false, hello = "HI", ["1"] = "one", x = 7},
  fn = function(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
    return "<" .. table.concat(t, "|") .. ">"
  end,
  fnnil = function(s) if s == "a" then return nil end return "#" end,
  fnbad = function() return {} end,
  num = 42,
}

local function run(c)
  local k = c[1]
  if k == "f" then return ser(pcall(string.find, c[2], c[3], c[4], c[5])) end
  if k == "m" then return ser(pcall(string.match, c[2], c[3], c[4])) end
  if k == "g" then return ser(pcall(collect, c[2], c[3])) end
  local r = c[4]
  if k == "S" then r = repls[r] end
  return ser(pcall(string.gsub, c[2], c[3], r, c[5]))
end
]==]

local function lit(s)
  local out = {'"'}
  for i = 1, #s do
    local b = string.byte(s, i)
    if b == 34 or b == 92 then
      out[#out + 1] = "\\" .. string.char(b)
    elseif b >= 32 and b < 127 then
      out[#out + 1] = string.char(b)
    else
      out[#out + 1] = string.format("\\%03d", b)
    end
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

local function val(v)
  if v == nil then return "nil" end
  if type(v) == "string" then return lit(v) end
  return tostring(v)
end

local cases = {}
local function add(...)
  local n = select("#", ...)
  local c = {n = n}
  for i = 1, n do c[i] = select(i, ...) end
  cases[#cases + 1] = c
end

local subjects = {
  "", "aaa", "aab", "hello world", "  trim me  ", "key=value; k2 = v2", "f(a(b)c)d)",
  "x^y$z", "a%b%%", "tab\tnl\ncr\r\0\1\127\128\255", "a,b,,c,", "ab12cd34", "\"q\" ()",
}

local patterns = {
  "", "a", "a*", "a-", "a+", "a?", ".", ".-", ".*", ".+", "^a", "a$", "^$", "^", "$",
  "^^", "a^", "$$", "x$y", "$a", "%a+", "%d+", "%s*", "%s+", "%w+", "%p", "%u+", "%l+",
  "%x+", "%c", "%z", "%A+", "%S+", "%D", "%W+", "%P", "%C", "%Z", "%U", "%L", "%X",
  "[abc]", "[^abc]+", "[a-c]+", "[%a_][%w_]*", "[]]", "[^]]", "[%]]", "[a-]", "[-a]",
  "[%a-z]", "[!-/]+", "[%d%.]+", "[.]", "%.", "%%", "[%%]", "[^%s]+", "(a)", "(a*)",
  "()", "()a()", "(%a+)=(%w+)", "((a)(b))", "(a)(b)%2%1", "(.)%1", "(%a)(%a)%2",
  "%b()", "%b[]", "%b\"\"", "%bxy", "%f[%w]%w+", "%f[%W]", "%f[%a]", "%f[%z]",
  "%f[^%z]", "^(%s*)(.-)(%s*)$", "(h)(e)(l)(l)(o)", "%d%d?%d?", "(%d+)-(%d+)",
  "(%d+)", "()(%a+)()", "[%w_]+%s*=%s*([^;]+)", "a-b", "a-$", ".-b", "(.-)%s", "%Q",
  "%-", "%]", "[%-]", "%1", "(", ")", "%", "[a", "[", "%f", "%fa", "%b", "%ba", "(()",
  "%0", "(%1)", "[%", "[^", "a%", "[a-%%]", "((a)", "a)", "(a", "%g", "[]", "[^]",
  "x*y*z*", "(x?)(y?)", "(%s)", "%d+%.?%d*", "[%]%[]", "^%s*(.-)%s*$",
}

-- Every subject against every pattern, through gmatch (every match, with
-- captures) and gsub (every replacement).
for _, s in ipairs(subjects) do
  for _, p in ipairs(patterns) do
    add("g", s, p)
    add("s", s, p, "<%0>")
  end
end

-- find and match: init, negative init, plain.
for _, s in ipairs({"hello world", "aaa", "", "x^y$z"}) do
  for _, p in ipairs({"o", "l+", "", ".", "^h", "^", "$", "%.", "a.", "()", "(o)", "w%a*", "^$", "^y", "$z"}) do
    for _, init in ipairs({"none", 2, 0, -3, -100, 100}) do
      local i = init
      if i == "none" then i = nil end
      add("f", s, p, i)
      add("m", s, p, i)
      add("f", s, p, i, true)
    end
  end
end
add("f", "a+b", "+", 1, false)
add("f", "a+b", "a+b")
add("f", "a+b", "a+b", 1, true)
add("f", "a]b", "]")
add("f", "a%b", "%", 1, true)
add("f", "abc", "%")
add("f", "abc", "x%")
add("f", "abc", "a%")
add("f", "abc", "b[")
add("f", "abc", "a[")
add("f", "a.b", ".", 1, 1)
add("f", "aaa", "a", 2.9)
add("f", "aaa", "a", -1.5)

-- gsub replacements: %0-%9, %%, other escapes, a trailing %, numbers, n.
for _, s in ipairs({"hello world", "a=1, b=2", "abc", ""}) do
  for _, p in ipairs({"%w+", "(%w+)=(%w+)", "()", "(o)", "", "^%w", "x", "(l)(l)"}) do
    for _, r in ipairs({"%0%0", "%1", "%2", "[%1-%2]", "%%", "%a%", "%", "%9", "", "%3", "-%0-"}) do
      add("s", s, p, r)
    end
    for _, n in ipairs({0, 1, 2, -1, 1.5}) do
      add("s", s, p, "<%0>", n)
    end
    for _, r in ipairs({"tbl", "fn", "fnnil", "fnbad", "num"}) do
      add("S", s, p, r)
    end
  end
end

-- Random patterns on random subjects: what the lists above do not think of.
math.randomseed(20261207)
local tokens = {
  "a", "b", "x", ".", "%a", "%d", "%s", "%w", "[ab]", "[^a]", "[a-c]", "(", ")", "()",
  "*", "+", "-", "?", "^", "$", "%b()", "%f[%w]", "%f[%s]", "%1", "%2", "%.", "[%d%s]",
}
local alphabet = {"a", "a", "b", "(", ")", "x", "1", " ", ".", "c"}
for _ = 1, 400 do
  local p = {}
  for _ = 1, math.random(1, 6) do p[#p + 1] = tokens[math.random(#tokens)] end
  local s = {}
  for _ = 1, math.random(0, 12) do s[#s + 1] = alphabet[math.random(#alphabet)] end
  s, p = table.concat(s), table.concat(p)
  add("g", s, p)
  add("s", s, p, "<%0>")
  add("f", s, p)
end

local run = assert(loadstring(core .. "\nreturn run"))()

local out = {}
local function emit(line) out[#out + 1] = line end
emit("-- string.find, match, gmatch and gsub against the reference Lua 5.1")
emit("-- interpreter (lua5.1 of Debian): each case holds the arguments and the")
emit("-- serialized results lua5.1 gave. Generated by gen/patterns_gen.lua; not")
emit("-- edited by hand.")
emit(core)
emit("local cases = {")
for _, c in ipairs(cases) do
  local parts = {}
  for i = 1, c.n do parts[i] = val(c[i]) end
  emit("{" .. table.concat(parts, ",") .. ",want=" .. lit(run(c)) .. "},")
end
emit("}")
emit([[
local failed = {}
for i, c in ipairs(cases) do
  local got = run(c)
  if got ~= c.want then
    failed[#failed + 1] = "case " .. i .. " " .. c[1] .. "(" .. esc(tostring(c[2])) .. ", " ..
      esc(tostring(c[3])) .. ", " .. esc(tostring(c[4])) .. ", " .. tostring(c[5]) ..
      "): got " .. got .. ", want " .. c.want
    if #failed >= 30 then break end
  end
end
if #failed > 0 then error(#failed .. " cases differ from Lua 5.1:\n" .. table.concat(failed, "\n")) end]])
io.write(table.concat(out, "\n"), "\n")
