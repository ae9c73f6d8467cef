-- Programs that gopher-lua v1.1.2 ran wrong before the engine guarded its
-- jumps (jumpfix.go): random nests of loops, breaks and conditions, from
-- a generator run against the reference Lua 5.1 interpreter (lua5.1 of
-- Debian), whose output each expects. Generated; not edited by hand.
local assert = require("assert")
local programs = {
  {seed = 6, want = "146\t0", src = [[
n, out = 0, {}
local function f()
n = n * 2 % 1000
local function f()
for i = 1, 2 do
do
if true then n = n + 5 end
n = n + 1
n = n * 2 % 1000
end
end
for k, v in pairs(out) do
if true then break end
end
local function f()
n = n * 2 % 1000
local r = 0
repeat
do
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
if n % 2 == 0 then
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
else
if false then n = n + 7 end
if true then n = n + 5 end
if true then n = n + 5 end
end
end
f()
end
f()
end
f()
for i = 1, 2 do
do break end
end
for k, v in ipairs({1,2,3}) do
do break end
end
return n .. "\t" .. #out]]},
  {seed = 16, want = "19\t0", src = [[
n, out = 0, {}
local r = 0
repeat
do
if n % 3 == 0 then n = n + 1 end
local r = 0
repeat
do
do break end
end
r = r + 1
until r > 2
end
r = r + 1
until r > 2
local w = 0
while w < 3 do
do
while true do
break
end
local r = 0
repeat
do
do
local w = 0
while w < 3 do
do
if false then n = n + 7 end
n = n + 1
break
end
w = w + 1
end
for i = 1, 2 do
do break end
end
end
local w = 0
while w < 3 do
do
local function f()
n = n + 1
if n % 3 == 0 then n = n + 1 end
end
f()
for k, v in pairs(out) do
n = n + #out
end
while true do
do
if false then n = n + 7 end
if true then break end
end
break
end
end
w = w + 1
end
end
r = r + 1
until r > 2
for k, v in ipairs({1,2,3}) do
break
end
if true then break end
end
w = w + 1
end
return n .. "\t" .. #out]]},
  {seed = 17, want = "15\t1", src = [[
n, out = 0, {}
local r = 0
repeat
do
if true then n = n + 5 end
local r = 0
repeat
do
if true then break end
end
r = r + 1
until r > 2
end
r = r + 1
until r > 2
if n % 2 == 0 then
do
for i = 1, 1 do
if true then n = n + 5 end
end
end
while true do
do
break
end
break
end
for k, v in pairs(out) do
if n % 3 == 0 then n = n + 1 end
if n % 2 == 0 then
break
else
local function f()
if false then n = n + 7 end
if n % 3 == 0 then n = n + 1 end
end
f()
n = n + #out
if false then n = n + 7 end
if n % 3 == 0 then break end
end
if n % 2 == 0 then
do break end
else
if n % 3 == 0 then break end
end
do break end
end
else
if n % 2 == 0 then
local r = 0
repeat
do
do break end
end
r = r + 1
until r > 2
else
local r = 0
repeat
do
local r = 0
repeat
do
if true then break end
end
r = r + 1
until r > 2
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
end
do
out[#out+1] = n
end
end
for k, v in ipairs({1,2,3}) do
do break end
end
return n .. "\t" .. #out]]},
  {seed = 19, want = "18\t3", src = [[
n, out = 0, {}
if false then n = n + 7 end
n = n * 2 % 1000
local r = 0
repeat
do
out[#out+1] = n
local r = 0
repeat
do
for i = 1, 1 do
n = n + #out
end
for k, v in pairs(out) do
if true then break end
end
end
r = r + 1
until r > 2
local r = 0
repeat
do
do
break
end
do
if true then break end
end
if true then n = n + 5 end
end
r = r + 1
until r > 2
end
r = r + 1
until r > 2
return n .. "\t" .. #out]]},
  {seed = 25, want = "74\t12", src = [[
n, out = 0, {}
for i = 1, 1 do
for i = 1, 2 do
break
end
for k, v in ipairs({1,2,3}) do
local w = 0
while w < 3 do
do
for k, v in pairs({a=1,b=2}) do
n = n + #out
out[#out+1] = n
if n % 3 == 0 then break end
end
for k, v in pairs({a=1,b=2}) do
if false then n = n + 7 end
end
for i = 1, 1 do
if true then break end
end
end
w = w + 1
end
local function f()
local function f()
n = n + 1
if n % 3 == 0 then n = n + 1 end
end
f()
local r = 0
repeat
do
if true then break end
end
r = r + 1
until r > 2
local function f()
n = n + #out
end
f()
end
f()
do
local w = 0
while w < 3 do
do
if n % 3 == 0 then break end
end
w = w + 1
end
local w = 0
while w < 3 do
do
do break end
end
w = w + 1
end
if true then break end
end
end
end
local function f()
do
for k, v in ipairs({}) do
while true do
break
end
end
if n % 3 == 0 then n = n + 1 end
end
if false then n = n + 7 end
for i = 1, 2 do
for k, v in pairs({a=1,b=2}) do
local w = 0
while w < 3 do
do
out[#out+1] = n
end
w = w + 1
end
for k, v in ipairs({1,2,3}) do
if n % 3 == 0 then n = n + 1 end
if true then n = n + 5 end
if n % 3 == 0 then n = n + 1 end
break
end
for i = 1, 2 do
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
out[#out+1] = n
break
end
end
if true then break end
end
end
f()
return n .. "\t" .. #out]]},
  {seed = 35, want = "248\t8", src = [[
n, out = 0, {}
local w = 0
while w < 3 do
do
out[#out+1] = n
end
w = w + 1
end
local r = 0
repeat
do
for k, v in ipairs({}) do
break
end
if n % 2 == 0 then
for i = 1, 0 do
if n % 3 == 0 then break end
end
for k, v in pairs(out) do
if false then n = n + 7 end
if n % 3 == 0 then break end
end
else
do
if true then break end
end
for i = 1, 0 do
for k, v in pairs(out) do
n = n + #out
end
if false then n = n + 7 end
while true do
if true then n = n + 5 end
break
end
end
if n % 3 == 0 then break end
end
local function f()
local function f()
local w = 0
while w < 3 do
do
out[#out+1] = n
if false then n = n + 7 end
n = n + #out
end
w = w + 1
end
do
if true then n = n + 5 end
if false then n = n + 7 end
out[#out+1] = n
end
local w = 0
while w < 3 do
do
if true then break end
end
w = w + 1
end
end
f()
for k, v in ipairs({}) do
if n % 2 == 0 then
if n % 3 == 0 then n = n + 1 end
n = n + #out
n = n + 1
else
n = n + 1
n = n * 2 % 1000
end
end
local w = 0
while w < 3 do
do
if n % 3 == 0 then n = n + 1 end
end
w = w + 1
end
end
f()
if true then break end
end
r = r + 1
until r > 2
do
for i = 1, 1 do
out[#out+1] = n
for k, v in ipairs({1,2,3}) do
local function f()
n = n * 2 % 1000
end
f()
n = n * 2 % 1000
n = n * 2 % 1000
end
do
n = n + #out
if n % 3 == 0 then break end
end
end
if false then n = n + 7 end
end
return n .. "\t" .. #out]]},
  {seed = 38, want = "63\t4", src = [[
n, out = 0, {}
for k, v in pairs({a=1,b=2}) do
local w = 0
while w < 3 do
do
out[#out+1] = n
local r = 0
repeat
do
for k, v in pairs(out) do
break
end
for i = 1, 1 do
n = n + 1
if true then n = n + 5 end
if true then break end
end
if n % 3 == 0 then n = n + 1 end
end
r = r + 1
until r > 2
end
w = w + 1
end
do
n = n + #out
if true then n = n + 5 end
out[#out+1] = n
if n % 3 == 0 then break end
end
end
local w = 0
while w < 3 do
do
while true do
do
if n % 2 == 0 then
while true do
do
n = n + 1
n = n * 2 % 1000
if false then n = n + 7 end
end
break
end
for i = 1, 1 do
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then n = n + 1 end
end
local r = 0
repeat
do
do break end
end
r = r + 1
until r > 2
else
if n % 3 == 0 then break end
end
if n % 3 == 0 then break end
end
break
end
for i = 1, 2 do
if false then n = n + 7 end
for k, v in pairs(out) do
for i = 1, 3 do
if true then break end
end
local w = 0
while w < 3 do
do
break
end
w = w + 1
end
end
end
if n % 3 == 0 then break end
end
w = w + 1
end
if false then n = n + 7 end
return n .. "\t" .. #out]]},
  {seed = 44, want = "256\t14", src = [[
n, out = 0, {}
for k, v in ipairs({1,2,3}) do
n = n + 1
for k, v in ipairs({1,2,3}) do
do
if n % 2 == 0 then
if n % 3 == 0 then break end
else
break
end
out[#out+1] = n
if true then n = n + 5 end
end
out[#out+1] = n
local function f()
while true do
do
n = n + 1
end
break
end
do
n = n + 1
if true then n = n + 5 end
if true then n = n + 5 end
end
end
f()
end
end
if n % 2 == 0 then
local w = 0
while w < 3 do
do
do break end
end
w = w + 1
end
for i = 1, 2 do
break
end
else
local r = 0
repeat
do
do
if n % 3 == 0 then break end
end
for i = 1, 3 do
for k, v in ipairs({1,2,3}) do
break
end
local r = 0
repeat
do
out[#out+1] = n
if true then break end
end
r = r + 1
until r > 2
if true then n = n + 5 end
end
end
r = r + 1
until r > 2
for i = 1, 2 do
if n % 2 == 0 then
n = n + #out
n = n + #out
else
out[#out+1] = n
n = n * 2 % 1000
end
n = n + #out
end
local function f()
if false then n = n + 7 end
end
f()
end
return n .. "\t" .. #out]]},
  {seed = 47, want = "2\t0", src = [[
n, out = 0, {}
if false then n = n + 7 end
if n % 2 == 0 then
do
n = n + #out
for k, v in pairs({a=1,b=2}) do
if true then break end
end
for i = 1, 2 do
if false then n = n + 7 end
end
end
for i = 1, 2 do
while true do
do
n = n + 1
end
break
end
local r = 0
repeat
do
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
end
else
if true then n = n + 5 end
n = n + #out
end
return n .. "\t" .. #out]]},
  {seed = 48, want = "61\t0", src = [[
n, out = 0, {}
local r = 0
repeat
do
if n % 3 == 0 then n = n + 1 end
local w = 0
while w < 3 do
do
if true then n = n + 5 end
if n % 3 == 0 then n = n + 1 end
local w = 0
while w < 3 do
do
n = n + 1
if n % 3 == 0 then break end
end
w = w + 1
end
end
w = w + 1
end
if false then n = n + 7 end
do break end
end
r = r + 1
until r > 2
for k, v in ipairs({1,2,3}) do
do break end
end
if n % 2 == 0 then
while true do
do
out[#out+1] = n
if false then n = n + 7 end
n = n + #out
end
break
end
while true do
do
do break end
end
break
end
for k, v in pairs({a=1,b=2}) do
if n % 2 == 0 then
if true then break end
else
if n % 3 == 0 then n = n + 1 end
local function f()
if true then n = n + 5 end
n = n * 2 % 1000
if n % 3 == 0 then n = n + 1 end
end
f()
local w = 0
while w < 3 do
do
if true then break end
end
w = w + 1
end
end
do
for i = 1, 3 do
if true then n = n + 5 end
break
end
if n % 2 == 0 then
if true then n = n + 5 end
else
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then n = n + 1 end
n = n + #out
if true then break end
end
for k, v in pairs(out) do
break
end
end
end
else
while true do
do
local r = 0
repeat
do
do
if true then n = n + 5 end
if true then break end
end
for k, v in pairs({a=1,b=2}) do
if n % 3 == 0 then break end
end
for k, v in ipairs({1,2,3}) do
if n % 3 == 0 then break end
end
end
r = r + 1
until r > 2
for i = 1, 0 do
for i = 1, 2 do
if n % 3 == 0 then n = n + 1 end
end
break
end
n = n + #out
end
break
end
if n % 2 == 0 then
local r = 0
repeat
do
local w = 0
while w < 3 do
do
if n % 3 == 0 then break end
end
w = w + 1
end
for k, v in ipairs({1,2,3}) do
break
end
end
r = r + 1
until r > 2
for i = 1, 2 do
if n % 3 == 0 then n = n + 1 end
local w = 0
while w < 3 do
do
n = n * 2 % 1000
if true then n = n + 5 end
if n % 3 == 0 then n = n + 1 end
if true then break end
end
w = w + 1
end
local function f()
n = n + 1
n = n + 1
end
f()
break
end
else
while true do
do
if n % 3 == 0 then break end
end
break
end
end
for k, v in pairs({a=1,b=2}) do
while true do
do
local r = 0
repeat
do
do break end
end
r = r + 1
until r > 2
if n % 2 == 0 then
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then break end
else
n = n + 1
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
end
end
break
end
do break end
end
end
return n .. "\t" .. #out]]},
  {seed = 56, want = "25\t1", src = [[
n, out = 0, {}
if true then n = n + 5 end
do
out[#out+1] = n
if n % 2 == 0 then
if false then n = n + 7 end
if n % 3 == 0 then n = n + 1 end
for i = 1, 1 do
do
n = n + 1
end
end
else
n = n + #out
if true then n = n + 5 end
end
while true do
do
if true then break end
end
break
end
end
if n % 2 == 0 then
for i = 1, 2 do
break
end
else
local function f()
local function f()
n = n + #out
for i = 1, 1 do
if true then break end
end
end
f()
n = n * 2 % 1000
end
f()
local r = 0
repeat
do
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
for k, v in pairs({a=1,b=2}) do
do
if true then break end
end
local r = 0
repeat
do
do
if n % 3 == 0 then break end
end
end
r = r + 1
until r > 2
for i = 1, 0 do
do break end
end
if n % 3 == 0 then break end
end
end
return n .. "\t" .. #out]]},
  {seed = 58, want = "51\t0", src = [[
n, out = 0, {}
if true then n = n + 5 end
while true do
do
local r = 0
repeat
do
for k, v in pairs({a=1,b=2}) do
local function f()
if true then n = n + 5 end
n = n + #out
if true then n = n + 5 end
end
f()
for k, v in ipairs({1,2,3}) do
do break end
end
end
while true do
do
n = n * 2 % 1000
if n % 3 == 0 then break end
end
break
end
if n % 3 == 0 then n = n + 1 end
break
end
r = r + 1
until r > 2
local r = 0
repeat
do
do
if true then break end
end
while true do
do
for k, v in pairs(out) do
if true then n = n + 5 end
n = n + #out
end
end
break
end
if true then n = n + 5 end
end
r = r + 1
until r > 2
if n % 3 == 0 then break end
end
break
end
n = n + 1
return n .. "\t" .. #out]]},
  {seed = 63, want = "16\t0", src = [[
n, out = 0, {}
local r = 0
repeat
do
for k, v in pairs({a=1,b=2}) do
if true then n = n + 5 end
for i = 1, 1 do
local r = 0
repeat
do
n = n + 1
end
r = r + 1
until r > 2
end
end
if true then break end
end
r = r + 1
until r > 2
if n % 2 == 0 then
for k, v in pairs({a=1,b=2}) do
do break end
end
for k, v in pairs({a=1,b=2}) do
do
if n % 2 == 0 then
do break end
else
if false then n = n + 7 end
if true then n = n + 5 end
if false then n = n + 7 end
if n % 3 == 0 then break end
end
end
end
else
for i = 1, 2 do
if n % 3 == 0 then break end
end
n = n + 1
do
local w = 0
while w < 3 do
do
if n % 3 == 0 then break end
end
w = w + 1
end
end
end
return n .. "\t" .. #out]]},
  {seed = 109, want = "905\t0", src = [[
n, out = 0, {}
n = n + #out
for k, v in ipairs({1,2,3}) do
for k, v in ipairs({1,2,3}) do
local w = 0
while w < 3 do
do
if n % 2 == 0 then
break
else
n = n * 2 % 1000
n = n * 2 % 1000
if false then n = n + 7 end
end
local function f()
n = n + #out
end
f()
end
w = w + 1
end
if true then n = n + 5 end
end
do
local r = 0
repeat
do
for k, v in pairs({a=1,b=2}) do
if true then break end
end
for i = 1, 3 do
if n % 3 == 0 then break end
end
end
r = r + 1
until r > 2
end
end
return n .. "\t" .. #out]]},
  {seed = 110, want = "0\t0", src = [[
n, out = 0, {}
while true do
do
for k, v in pairs(out) do
if n % 3 == 0 then n = n + 1 end
for k, v in ipairs({1,2,3}) do
do
n = n * 2 % 1000
out[#out+1] = n
out[#out+1] = n
end
end
local function f()
local w = 0
while w < 3 do
do
if n % 3 == 0 then break end
end
w = w + 1
end
n = n * 2 % 1000
end
f()
end
if n % 2 == 0 then
if n % 3 == 0 then break end
else
for i = 1, 2 do
while true do
do
if true then n = n + 5 end
if true then n = n + 5 end
end
break
end
end
n = n + #out
end
if n % 2 == 0 then
local function f()
n = n * 2 % 1000
for k, v in pairs({a=1,b=2}) do
if n % 3 == 0 then n = n + 1 end
if n % 3 == 0 then break end
end
for k, v in ipairs({}) do
n = n + 1
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
end
end
f()
else
break
end
end
break
end
for k, v in pairs({a=1,b=2}) do
break
end
return n .. "\t" .. #out]]},
  {seed = 114, want = "2\t0", src = [[
n, out = 0, {}
if n % 2 == 0 then
for i = 1, 1 do
local r = 0
repeat
do
if n % 2 == 0 then
break
else
n = n + #out
n = n + 1
end
local r = 0
repeat
do
if n % 3 == 0 then n = n + 1 end
if true then n = n + 5 end
if true then n = n + 5 end
end
r = r + 1
until r > 2
while true do
do
if n % 3 == 0 then n = n + 1 end
end
break
end
end
r = r + 1
until r > 2
for k, v in pairs({a=1,b=2}) do
local r = 0
repeat
do
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
for k, v in ipairs({1,2,3}) do
break
end
n = n + 1
break
end
n = n * 2 % 1000
end
n = n + #out
if n % 2 == 0 then
n = n + #out
local w = 0
while w < 3 do
do
break
end
w = w + 1
end
else
for i = 1, 2 do
local function f()
out[#out+1] = n
end
f()
local function f()
out[#out+1] = n
out[#out+1] = n
end
f()
if n % 3 == 0 then n = n + 1 end
end
local w = 0
while w < 3 do
do
local function f()
n = n + 1
n = n + #out
if true then n = n + 5 end
end
f()
do
n = n + #out
end
end
w = w + 1
end
local w = 0
while w < 3 do
do
if true then break end
end
w = w + 1
end
end
else
for i = 1, 2 do
local function f()
for k, v in ipairs({}) do
break
end
n = n + 1
if n % 2 == 0 then
if n % 3 == 0 then n = n + 1 end
else
n = n + 1
end
end
f()
local function f()
if n % 2 == 0 then
n = n + 1
n = n * 2 % 1000
else
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
if true then n = n + 5 end
end
do
n = n + #out
end
for k, v in ipairs({}) do
if n % 3 == 0 then n = n + 1 end
n = n + #out
out[#out+1] = n
end
end
f()
for i = 1, 2 do
do
n = n + 1
end
break
end
end
end
return n .. "\t" .. #out]]},
  {seed = 130, want = "81\t1", src = [[
n, out = 0, {}
local function f()
if n % 2 == 0 then
while true do
for k, v in ipairs({1,2,3}) do
n = n + #out
do break end
end
if true then n = n + 5 end
do
if true then break end
end
break
end
else
local w = 0
while w < 3 do
do
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
for k, v in pairs(out) do
n = n + #out
if n % 3 == 0 then n = n + 1 end
end
end
w = w + 1
end
if n % 3 == 0 then n = n + 1 end
local w = 0
while w < 3 do
do
if true then break end
end
w = w + 1
end
end
do
local r = 0
repeat
do
n = n * 2 % 1000
end
r = r + 1
until r > 2
end
local function f()
while true do
for i = 1, 2 do
if false then n = n + 7 end
end
for k, v in pairs({a=1,b=2}) do
if true then break end
end
out[#out+1] = n
break
end
n = n * 2 % 1000
local w = 0
while w < 3 do
do
for k, v in pairs(out) do
do break end
end
if n % 3 == 0 then break end
end
w = w + 1
end
end
f()
end
f()
for k, v in ipairs({1,2,3}) do
do break end
end
local function f()
local r = 0
repeat
do
break
end
r = r + 1
until r > 2
n = n + 1
end
f()
return n .. "\t" .. #out]]},
  {seed = 131, want = "0\t0", src = [[
n, out = 0, {}
for k, v in pairs(out) do
break
end
for k, v in ipairs({1,2,3}) do
if true then break end
end
return n .. "\t" .. #out]]},
  {seed = 160, want = "10\t3", src = [[
n, out = 0, {}
do
if n % 2 == 0 then
local function f()
while true do
if n % 3 == 0 then n = n + 1 end
n = n + 1
break
end
n = n + #out
if n % 2 == 0 then
out[#out+1] = n
if n % 3 == 0 then n = n + 1 end
else
if n % 3 == 0 then n = n + 1 end
out[#out+1] = n
end
end
f()
while true do
do
if true then n = n + 5 end
for k, v in ipairs({1,2,3}) do
do break end
end
end
break
end
do
n = n + 1
for i = 1, 1 do
n = n + #out
if false then n = n + 7 end
n = n + #out
do break end
end
for k, v in pairs({a=1,b=2}) do
if false then n = n + 7 end
out[#out+1] = n
out[#out+1] = n
break
end
end
else
n = n * 2 % 1000
if true then n = n + 5 end
for i = 1, 0 do
for i = 1, 1 do
n = n * 2 % 1000
end
if n % 3 == 0 then break end
end
end
end
return n .. "\t" .. #out]]},
  {seed = 196, want = "1\t0", src = [[
n, out = 0, {}
for i = 1, 1 do
for k, v in ipairs({}) do
for k, v in ipairs({1,2,3}) do
if n % 3 == 0 then n = n + 1 end
do
if true then break end
end
local r = 0
repeat
do
if true then break end
end
r = r + 1
until r > 2
end
if n % 3 == 0 then break end
end
if n % 3 == 0 then n = n + 1 end
local w = 0
while w < 3 do
do
if true then break end
end
w = w + 1
end
end
if false then n = n + 7 end
if n % 2 == 0 then
local function f()
for k, v in pairs(out) do
for i = 1, 0 do
n = n * 2 % 1000
n = n + 1
if true then break end
end
n = n * 2 % 1000
break
end
local function f()
do
n = n + #out
n = n * 2 % 1000
if n % 3 == 0 then n = n + 1 end
end
end
f()
if n % 2 == 0 then
n = n + 1
local w = 0
while w < 3 do
do
if true then break end
end
w = w + 1
end
else
for i = 1, 2 do
out[#out+1] = n
if true then n = n + 5 end
end
n = n + #out
local w = 0
while w < 3 do
do
if true then n = n + 5 end
end
w = w + 1
end
end
end
f()
n = n + 1
else
for k, v in pairs({a=1,b=2}) do
if true then break end
end
if n % 2 == 0 then
for i = 1, 2 do
for i = 1, 0 do
do break end
end
for i = 1, 0 do
if true then n = n + 5 end
break
end
do break end
end
while true do
do
n = n + 1
if n % 3 == 0 then break end
end
break
end
if n % 2 == 0 then
local function f()
if true then n = n + 5 end
if n % 3 == 0 then n = n + 1 end
end
f()
else
do
if true then n = n + 5 end
out[#out+1] = n
end
do
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
end
if false then n = n + 7 end
end
else
for k, v in pairs(out) do
if true then n = n + 5 end
if n % 2 == 0 then
if n % 3 == 0 then n = n + 1 end
out[#out+1] = n
if n % 3 == 0 then n = n + 1 end
else
n = n + #out
if false then n = n + 7 end
if false then n = n + 7 end
end
end
end
if false then n = n + 7 end
end
return n .. "\t" .. #out]]},
  {seed = 207, want = "2\t0", src = [[
n, out = 0, {}
while true do
do
if n % 3 == 0 then break end
end
break
end
for k, v in pairs({a=1,b=2}) do
break
end
local function f()
while true do
if n % 3 == 0 then n = n + 1 end
n = n + 1
break
end
end
f()
return n .. "\t" .. #out]]},
  {seed = 209, want = "40\t6", src = [[
n, out = 0, {}
local w = 0
while w < 3 do
do
if true then n = n + 5 end
out[#out+1] = n
if n % 3 == 0 then break end
end
w = w + 1
end
if n % 2 == 0 then
n = n + 1
else
if n % 2 == 0 then
n = n * 2 % 1000
else
if n % 2 == 0 then
if true then n = n + 5 end
n = n * 2 % 1000
for i = 1, 2 do
if n % 3 == 0 then break end
end
else
if n % 2 == 0 then
n = n * 2 % 1000
if true then n = n + 5 end
n = n + #out
else
n = n + #out
end
local r = 0
repeat
do
out[#out+1] = n
if true then n = n + 5 end
end
r = r + 1
until r > 2
while true do
do
if n % 3 == 0 then n = n + 1 end
end
break
end
end
end
local function f()
do
for i = 1, 1 do
if n % 3 == 0 then n = n + 1 end
n = n + #out
break
end
while true do
do
if n % 3 == 0 then break end
end
break
end
end
for k, v in ipairs({}) do
if n % 3 == 0 then break end
end
for k, v in ipairs({1,2,3}) do
if true then break end
end
end
f()
end
while true do
do
if n % 2 == 0 then
break
else
out[#out+1] = n
end
break
end
break
end
return n .. "\t" .. #out]]},
  {seed = 228, want = "2\t2", src = [[
n, out = 0, {}
while true do
do
local function f()
for k, v in ipairs({1,2,3}) do
do
if false then n = n + 7 end
if n % 3 == 0 then n = n + 1 end
end
for k, v in pairs(out) do
if true then n = n + 5 end
end
local r = 0
repeat
do
n = n + #out
end
r = r + 1
until r > 2
break
end
end
f()
out[#out+1] = n
if false then n = n + 7 end
end
break
end
local r = 0
repeat
do
n = n + 1
for k, v in pairs(out) do
out[#out+1] = n
break
end
do break end
end
r = r + 1
until r > 2
local r = 0
repeat
do
if true then break end
end
r = r + 1
until r > 2
return n .. "\t" .. #out]]},
  {seed = 233, want = "15\t0", src = [[
n, out = 0, {}
local w = 0
while w < 3 do
do
for k, v in pairs({a=1,b=2}) do
break
end
if true then n = n + 5 end
if n % 3 == 0 then break end
end
w = w + 1
end
for k, v in pairs(out) do
do break end
end
local w = 0
while w < 3 do
do
for k, v in pairs(out) do
do
for k, v in ipairs({1,2,3}) do
if true then break end
end
break
end
local function f()
for k, v in pairs({a=1,b=2}) do
n = n + #out
break
end
end
f()
end
do
do
do break end
end
end
local w = 0
while w < 3 do
do
if n % 3 == 0 then break end
end
w = w + 1
end
end
w = w + 1
end
return n .. "\t" .. #out]]},
  {seed = 237, want = "5\t0", src = [[
n, out = 0, {}
local w = 0
while w < 3 do
do
n = n * 2 % 1000
do
if false then n = n + 7 end
if true then n = n + 5 end
if n % 2 == 0 then
n = n + #out
do
do break end
end
else
if true then break end
end
end
if n % 3 == 0 then break end
end
w = w + 1
end
if n % 2 == 0 then
do
n = n + #out
local w = 0
while w < 3 do
do
n = n * 2 % 1000
n = n * 2 % 1000
local w = 0
while w < 3 do
do
if n % 3 == 0 then n = n + 1 end
end
w = w + 1
end
end
w = w + 1
end
out[#out+1] = n
end
local r = 0
repeat
do
if false then n = n + 7 end
for k, v in ipairs({1,2,3}) do
for k, v in ipairs({}) do
if n % 3 == 0 then n = n + 1 end
end
local function f()
if false then n = n + 7 end
if true then n = n + 5 end
if false then n = n + 7 end
end
f()
while true do
break
end
do break end
end
for i = 1, 0 do
do break end
end
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
for k, v in ipairs({1,2,3}) do
if true then break end
end
else
while true do
do
if true then break end
end
break
end
end
local w = 0
while w < 3 do
do
for i = 1, 0 do
local r = 0
repeat
do
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
end
while true do
do
while true do
while true do
do
if n % 3 == 0 then break end
end
break
end
break
end
local r = 0
repeat
do
for k, v in pairs({a=1,b=2}) do
break
end
end
r = r + 1
until r > 2
local function f()
for k, v in ipairs({}) do
n = n + 1
out[#out+1] = n
end
while true do
do break end
end
local w = 0
while w < 3 do
do
if false then n = n + 7 end
if false then n = n + 7 end
break
end
w = w + 1
end
end
f()
end
break
end
while true do
do break end
end
break
end
w = w + 1
end
return n .. "\t" .. #out]]},
  {seed = 238, want = "5\t0", src = [[
n, out = 0, {}
if true then n = n + 5 end
for k, v in ipairs({1,2,3}) do
if false then n = n + 7 end
end
return n .. "\t" .. #out]]},
  {seed = 257, want = "36\t0", src = [[
n, out = 0, {}
local r = 0
repeat
do
if false then n = n + 7 end
local function f()
if n % 3 == 0 then n = n + 1 end
if true then n = n + 5 end
local w = 0
while w < 3 do
do
local w = 0
while w < 3 do
do
break
end
w = w + 1
end
if true then break end
end
w = w + 1
end
end
f()
n = n + #out
end
r = r + 1
until r > 2
while true do
do
for k, v in ipairs({1,2,3}) do
if true then break end
end
local r = 0
repeat
do
do break end
end
r = r + 1
until r > 2
while true do
n = n * 2 % 1000
while true do
do
local r = 0
repeat
do
do break end
end
r = r + 1
until r > 2
while true do
do
if n % 3 == 0 then break end
end
break
end
end
break
end
while true do
do
if n % 3 == 0 then break end
end
break
end
break
end
if true then break end
end
break
end
return n .. "\t" .. #out]]},
  {seed = 264, want = "64\t2", src = [[
n, out = 0, {}
local r = 0
repeat
do
n = n * 2 % 1000
for i = 1, 2 do
if n % 2 == 0 then
if n % 3 == 0 then n = n + 1 end
do
if true then break end
end
do break end
else
break
end
do break end
end
local w = 0
while w < 3 do
do
local r = 0
repeat
do
for i = 1, 3 do
if n % 3 == 0 then n = n + 1 end
end
end
r = r + 1
until r > 2
end
w = w + 1
end
break
end
r = r + 1
until r > 2
for k, v in pairs({a=1,b=2}) do
while true do
do
break
end
break
end
out[#out+1] = n
local w = 0
while w < 3 do
do
if n % 3 == 0 then n = n + 1 end
n = n + 1
local function f()
if true then n = n + 5 end
n = n + #out
end
f()
break
end
w = w + 1
end
end
local function f()
for i = 1, 0 do
if true then n = n + 5 end
do
local w = 0
while w < 3 do
do
n = n + 1
n = n * 2 % 1000
end
w = w + 1
end
end
do
do break end
end
if true then break end
end
for k, v in ipairs({1,2,3}) do
if n % 3 == 0 then n = n + 1 end
n = n * 2 % 1000
n = n * 2 % 1000
break
end
end
f()
return n .. "\t" .. #out]]},
  {seed = 296, want = "1\t0", src = [[
n, out = 0, {}
local r = 0
repeat
do
if n % 3 == 0 then n = n + 1 end
do
local r = 0
repeat
do
while true do
do break end
end
if n % 3 == 0 then break end
end
r = r + 1
until r > 2
end
if false then n = n + 7 end
end
r = r + 1
until r > 2
return n .. "\t" .. #out]]},
}
for _, p in ipairs(programs) do
  local f, err = load(p.src, "seed" .. p.seed)
  assert.truthy(f, err)
  assert.eq(f(), p.want, "program of seed " .. p.seed)
end
