-- The engine's string.find, match, gmatch and gsub (pattern.go) and
-- table.sort (tablesort.go) keep Lua 5.1's semantics; patterns_corpus.lua
-- compares thousands of cases with lua5.1, this file names the rules.
local assert = require("assert")

-- find: positions, captures after them, init (negative counts from the
-- end, beyond the end clamps to it), plain, and no specials = plain.
assert.eq({string.find("hello world", "o w")}, {5, 7})
assert.eq({string.find("hello world", "(o)(r)")}, {8, 9, "o", "r"})
assert.eq({string.find("hello", "l", -2)}, {4, 4})
assert.eq({string.find("hello", "l", -100)}, {3, 3})
assert.eq({string.find("abc", "", 10)}, {4, 3})
assert.eq({string.find("a.b", ".", 1, true)}, {2, 2})
assert.eq({string.find("a+b", "+")}, {2, 2})
assert.eq({("x"):find("x")}, {1, 1})

-- match: captures, or the whole match; position captures are numbers.
assert.eq({string.match("key = value", "(%w+)%s*=%s*(%w+)")}, {"key", "value"})
assert.eq({string.match("  trim  ", "^%s*(.-)%s*$")}, {"trim"})
assert.eq({string.match("hello", "()ll()")}, {3, 5})
assert.eq(string.match("hello", ".-l"), "hel")
assert.eq(string.match("hello", "x"), nil)

-- Classes, sets, frontier, balance, back-references.
assert.eq(string.match("f(a(b)c)d", "%b()"), "(a(b)c)")
assert.eq(string.match("THE (quick) fox", "%f[%a]%a+", 5), "quick")
assert.eq(string.match("say 'hi' now", "(['\"])(.-)%1"), "'")
assert.eq({string.match("say 'hi' now", "(['\"])(.-)%1")}, {"'", "hi"})
assert.eq(string.match("a]b", "[]]"), "]")
assert.eq(string.match("x-y", "[a-]"), "-")
assert.eq(string.match("\0x", "%z"), "\0")
assert.eq(string.match("ab12", "%A+"), "12")

-- gmatch: every match with its captures; '^' is an ordinary character in
-- Lua 5.1's gmatch; an empty match moves on by one.
local words = {}
for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do words[#words + 1] = k .. v end
assert.eq(words, {"a1", "b2"})
local got = {}
for w in string.gmatch("^a^b", "^.") do got[#got + 1] = w end
assert.eq(got, {"^a", "^b"})
got = {}
for w in string.gmatch("abc", "a*") do got[#got + 1] = w end
assert.eq(got, {"a", "", "", ""})

-- gsub: %0-%9 and %%, a table, a function, false/nil keep the match, n.
assert.eq({string.gsub("hello world", "(o)", "[%1%%]")}, {"hell[o%] w[o%]rld", 2})
assert.eq({string.gsub("hello", "", "-")}, {"-h-e-l-l-o-", 6})
assert.eq({string.gsub("abc", "%w", "%0%0", 2)}, {"aabbc", 2})
assert.eq({string.gsub("$x $y", "%$(%w+)", {x = "1"})}, {"1 $y", 2})
assert.eq({string.gsub("a b", "%w", function(c) return c:upper() end)}, {"A B", 2})
assert.eq({string.gsub("abc", "^%w", "X")}, {"Xbc", 1})
assert.eq(string.gsub("x", "x", "%"), "\0")

-- Malformed patterns raise Lua 5.1's messages, once the match gets there.
assert.error(function() string.find("a", "%") end, "malformed pattern (ends with '%')")
assert.error(function() string.find("a", "[a") end, "malformed pattern (missing ']')")
assert.error(function() string.find("a", "%1") end, "invalid capture index")
assert.error(function() string.find("a", "(a") end, "unfinished capture")
assert.eq(string.find("a", "a)"), nil) -- no special character: a plain find
assert.error(function() string.match("a", "a)") end, "invalid pattern capture")
assert.error(function() string.find("a", "%f") end, "missing '[' after '%f' in pattern")
assert.error(function() string.find("a", "%b") end, "unbalanced pattern")
assert.error(function() string.gsub("a", "a", "%2") end, "invalid capture index")
assert.error(function() string.gsub("a", "a", function() return {} end) end, "invalid replacement value (a table)")
assert.error(function() string.gsub("a", "a", true) end, "string/function/table expected")
assert.eq(string.find("abc", "x["), nil) -- never reaches the '['

-- table.sort: in place, by < or a comparator; a comparator that is not an
-- order is found out; a failing sort leaves the table as it was.
local t = {5, 2, 8, 1, 9, 3, 7, 4, 6, 0}
table.sort(t)
assert.eq(t, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
table.sort(t, function(a, b) return a > b end)
assert.eq(t, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0})
local names = {"b", "c", "a"}
table.sort(names)
assert.eq(names, {"a", "b", "c"})
local big = {}
for i = 1, 2000 do big[i] = (i * 7919) % 2003 end
table.sort(big)
for i = 2, #big do assert.truthy(big[i - 1] <= big[i]) end
assert.error(function() table.sort({3, 1, 2, 5, 4, 6}, function() return true end) end, "invalid order function for sorting")
local mixed = {3, "a", 1}
assert.error(function() table.sort(mixed) end, "attempt to compare")
assert.eq(mixed, {3, "a", 1}) -- (Lua 5.1 may leave it half sorted)
assert.error(function() table.sort({1, 2}, 42) end)
table.sort({})
