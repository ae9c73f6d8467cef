// Package luatest runs Lua test files from Go tests.
//
// A test file is plain Lua. It calls the assert module, installed both as
// the global `assert` and as require("assert"):
//
//	assert.eq(a, b [, msg])          deep equality for tables, == otherwise
//	assert.ne(a, b [, msg])
//	assert.truthy(v [, msg]), assert.falsy(v [, msg])
//	assert.near(a, b, eps [, msg])   |a - b| <= eps
//	assert.match(s, pattern [, msg]) a Lua pattern
//	assert.error(fn [, code_or_pattern [, msg]]) -> err
//	assert.fail(msg)
//	assert(v [, msg], ...)           Lua's own assert, still callable
//
// assert.error calls fn under pcall and expects it to fail. With a second
// argument the failure must match it: an error object whose code equals it,
// or an error whose text contains it literally or matches it as a Lua
// pattern. It returns the error value so the test can look closer.
//
// A file may group cases with the global test(name, fn): each runs as its
// own Go subtest, so one failing case does not hide the others.
//
// A failing assertion raises a Lua error that starts with the file:line of
// the assert call; Run reports it through t and fails the (sub)test.
package luatest
