local env = require("env")

test("get", function()
  -- The test runtime's Getenv knows only ETCDSCRIPT_TEST.
  assert.eq(env.get("ETCDSCRIPT_TEST"), "yes")
  assert.eq(env.get("PATH"), nil)
  assert.eq(env.get("PATH", "fallback"), "fallback")
  assert.eq(env.get("ETCDSCRIPT_TEST", "fallback"), "yes")
end)

test("argument errors", function()
  assert.error(function() env.get() end, "env.get: bad argument #1 (name): string expected, got no value")
  assert.error(function() env.get({}) end, "invalid_argument")
end)
