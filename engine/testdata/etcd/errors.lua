-- Errors of etcd calls are objects with codes, caught by pcall.
local assert = require("assert")
local p = ...
local err = assert.error(function() etcd.get(p, {rev = 1e12}) end, "future_revision")
assert.eq(err.op, "etcd.get")
assert.falsy(err.retryable)
assert.error(function() etcd.put("", "v") end, "empty_key")
assert.error(function() etcd.get(p, {limt = 1}) end, "invalid_argument")
assert.eq(etcd.errors.COMPACTED, "compacted")
