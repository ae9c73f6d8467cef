package engine_test

import (
	"testing"

	"github.com/etcdscript/etcdscript/engine"
)

// TestCallHint: calling what is not a function names the callee when one
// call on the line can be the one that failed; otherwise the message stays
// gopher-lua's, since a wrong name is worse than none.
func TestCallHint(t *testing.T) {
	const bare = "attempt to call a non-function object"
	for _, c := range []struct{ name, src, want string }{
		{"misspelt global", "local x = 1\nprnt(x)", bare + " (global 'prnt' is a nil value)"},
		{"global of another type", "limit = 5\nlimit()", bare + " (global 'limit' is a number value)"},
		{"the other call is a function", "print(undefinedfn())", bare + " (global 'undefinedfn' is a nil value)"},
		{"tail call", "return nothere()", bare + " (global 'nothere' is a nil value)"},
		{"field", "local t = {}\nt.missing()", bare + " (field 'missing')"},
		{"module function", "local s = require('strings')\ns.splitt('a,b', ',')", bare + " (field 'splitt')"},
		{"method", "local t = {}\nt:nomethod()", bare + " (method 'nomethod')"},
		{"upvalue", "local helper\nlocal function f() return helper() end\nf()", bare + " (upvalue 'helper')"},
		{"two candidates", "local t = {}\nt.a(t.b())", bare},
		{"two nil globals", "one(two())", bare},
		{"a local", "local f = 3\nf()", bare},
		{"in a function defined earlier", "local function run()\n  missing_step()\nend\nrun()", bare + " (global 'missing_step' is a nil value)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			se := runString(t, engine.Config{}, c.src).scriptErr(t)
			if se.Message != c.want {
				t.Errorf("message %q, want %q", se.Message, c.want)
			}
		})
	}
}
