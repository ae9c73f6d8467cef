-- Loading code from strings stays, in a sandbox too.
local assert = require("assert")

assert.eq(load("return 1 + 2")(), 3)
assert.eq(load("return ...", "named")(4, 5), 4)
assert.eq(loadstring("return 'ls'")(), "ls")
local parts = {"return ", "'from ", "a function'"}
local i = 0
assert.eq(load(function() i = i + 1 return parts[i] end)(), "from a function")

local fn, err = load("return = 1", "broken")
assert.eq(fn, nil)
assert.match(err, "broken")

-- A chunk's errors name the chunk.
local ok, msg = pcall(load("error('in chunk')", "mychunk"))
assert.falsy(ok)
assert.match(msg, "^mychunk:1: in chunk")

-- Environments still work.
local env = {x = 42}
local f = load("return x")
setfenv(f, env)
assert.eq(f(), 42)
