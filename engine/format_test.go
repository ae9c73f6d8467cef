package engine_test

import (
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/engine"
)

// TestFormatUsesToString: string.format's %s formats every value as
// tostring does, __tostring included: error objects printed as
// "userdata: 0x..." (issue 13).
func TestFormatUsesToString(t *testing.T) {
	o := mustRun(t, engine.Config{}, `
local ok, err = pcall(os.exit, "x")
local obj = setmetatable({}, {__tostring = function() return "obj" end})
print(string.format("%s", err) == tostring(err), string.format("[%s|%s|%s]", obj, nil, 1.5))`)
	if o.stdout != "true\t[obj|nil|1.5]\n" {
		t.Errorf("stdout %q", o.stdout)
	}
}

// TestUnpackMany: unpack of a million values took minutes (the stack grew
// 32 slots at a time) and ignored the deadline.
func TestUnpackMany(t *testing.T) {
	o := mustRun(t, engine.Config{Timeout: 20 * time.Second}, `return select("#", unpack({}, 1, 1e6))`)
	if o.res.Values[0] != int64(1e6) {
		t.Errorf("values %v", o.res.Values)
	}
}
