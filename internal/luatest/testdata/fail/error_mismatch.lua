assert.error(function() error("other") end, "wanted")
