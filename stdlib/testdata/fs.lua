local fs = require("fs")
local dir = helpers.tmpdir

test("write, read, exists", function()
  local p = dir .. "/a.txt"
  assert.falsy(fs.exists(p))
  fs.write(p, "hello\n")
  assert.truthy(fs.exists(p))
  assert.eq(fs.read(p), "hello\n")
  fs.write(p, "more\n", {append = true})
  assert.eq(fs.read(p), "hello\nmore\n")
  fs.write(p, "\0\255")
  assert.eq(fs.read(p), "\0\255", "bytes pass unchanged")
  assert.truthy(fs.exists(dir))
  assert.falsy(fs.exists(p .. "/below/a/file"))
end)

test("lines", function()
  local p = dir .. "/lines.txt"
  fs.write(p, "one\ntwo\r\n\nlast")
  local got = {}
  for line in fs.lines(p) do got[#got + 1] = line end
  assert.eq(got, {"one", "two", "", "last"})
  fs.write(p, "")
  local n = 0
  for _ in fs.lines(p) do n = n + 1 end
  assert.eq(n, 0)
  local it = fs.lines(p)
  assert.eq(it(), nil)
  assert.eq(it(), nil, "stays ended")
end)

test("glob", function()
  fs.write(dir .. "/g-b.lua", "")
  fs.write(dir .. "/g-a.lua", "")
  fs.write(dir .. "/g-c.txt", "")
  local got = fs.glob(dir .. "/g-*.lua")
  assert.eq(got, {dir .. "/g-a.lua", dir .. "/g-b.lua"})
  assert.truthy(helpers.is_array(fs.glob(dir .. "/none-*")))
  assert.eq(require("json").encode(fs.glob(dir .. "/none-*")), "[]")
end)

test("errors", function()
  local e = assert.error(function() fs.read(dir .. "/missing") end)
  assert.eq(e.op, "fs.read")
  assert.eq(e.code, "io_error", "a file-system failure is io_error, not internal")
  assert.eq(assert.error(function() fs.write(dir .. "/no/such/dir/f", "x") end).code, "io_error")
  assert.match(e.message, "no such file")
  assert.error(function() fs.lines(dir .. "/missing") end, "fs.lines")
  assert.error(function() fs.write(dir .. "/no/such/dir/x", "") end, "fs.write")
  assert.error(function() fs.glob("[") end, "fs.glob: bad argument #1 (pattern): invalid pattern")
  assert.error(function() fs.read() end, "fs.read: bad argument #1 (path): string expected, got no value")
  assert.error(function() fs.write("x") end, "fs.write: bad argument #2 (s): string expected, got no value")
  assert.error(function() fs.write("x", "y", {mode = 1}) end, 'fs.write: bad argument #3 (opts): unknown option "mode"')
  assert.error(function() fs.exists({}) end, "invalid_argument")
end)
