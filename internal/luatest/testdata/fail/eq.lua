local x = 1

assert.eq({a = 1, b = {2, 3}}, {a = 1, b = {2, 4}}, "the note")
