-- require finds modules beside the script.
local assert = require("assert")
local helper = require("lib.helper")
assert.eq(helper.double(21), 42)
assert.eq(require("lib.helper"), helper, "modules load once")
assert.eq(package.loaded["lib.helper"], helper)
assert.match(package.path, "testdata")
