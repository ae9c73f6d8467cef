assert.error(function() end, "x")
