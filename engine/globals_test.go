package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdscript/etcdscript/engine"
)

// TestGlobalsConvert checks each Go type Config.Globals takes as the
// script sees it.
func TestGlobalsConvert(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		check string // a Lua expression that must be true for v
	}{
		{"nil", nil, `v == nil`},
		{"bool", true, `v == true`},
		{"int", 42, `v == 42`},
		{"int64 at 2^53", int64(1) << 53, `v == 2^53`},
		{"uint8", uint8(7), `v == 7`},
		{"float", 2.5, `v == 2.5`},
		{"string", "a\x00b", `v == "a\0b" and #v == 3`},
		{"bytes", []byte{0xff, 'x'}, `v == "\255x"`},
		{"slice", []string{"a", "b"}, `#v == 2 and v[1] == "a" and v[2] == "b"`},
		{"empty slice is an array", []int{}, `require("json").encode(v) == "[]"`},
		{"nil slice is an array", []int(nil), `require("json").encode(v) == "[]"`},
		{"array", [2]int{3, 4}, `v[1] + v[2] == 7`},
		{"map", map[string]any{"port": 8080, "tags": []any{"x"}, "on": false}, `v.port == 8080 and v.tags[1] == "x" and v.on == false`},
		{"nested maps", map[string]map[string]int{"a": {"b": 1}}, `v.a.b == 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustRun(t, engine.Config{Globals: map[string]any{"v": tc.value}},
				fmt.Sprintf("assert(%s, 'got ' .. tostring(v))", tc.check))
		})
	}
}

// TestGlobalsRefused checks that New names what does not convert.
func TestGlobalsRefused(t *testing.T) {
	type point struct{ X int }
	self := []any{nil}
	self[0] = self
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"struct", point{1}, `Globals["v"]: a engine_test.point does not convert`},
		{"pointer", &point{1}, `Globals["v"]: a *engine_test.point does not convert`},
		{"int keys", map[int]string{1: "a"}, `Globals["v"]: a map with int keys`},
		{"big int", int64(1) << 60, `Globals["v"]: the integer 1152921504606846976 is beyond 2^53`},
		{"deep in a map", map[string]any{"a": []any{1, make(chan int)}}, `Globals["v"].a[2]: a chan int does not convert`},
		{"other func", func(int) int { return 0 }, `Globals["v"]: a function of type func(int) int`},
		{"itself", self, `nested more than 100 levels deep`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.New(engine.Config{Globals: map[string]any{"v": tc.value}})
			if !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want ErrInvalidConfig with %q", err, tc.want)
			}
		})
	}
	if _, err := engine.New(engine.Config{Globals: map[string]any{"": 1}}); !errors.Is(err, engine.ErrInvalidConfig) {
		t.Fatalf("New with an empty name: %v, want ErrInvalidConfig", err)
	}
}

// TestGlobalsFunc checks a Go function as a global: its arguments and
// results, its context, and its error as an error object with a code.
func TestGlobalsFunc(t *testing.T) {
	var sawCtx bool
	hosts := engine.Func(func(ctx context.Context, args []any) ([]any, error) {
		sawCtx = ctx.Err() == nil && ctx != context.Background()
		if len(args) != 2 {
			return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
		}
		role, _ := args[0].(string)
		opts, _ := args[1].(map[string]any)
		return []any{[]string{role + "-1", role + "-2"}, opts["n"]}, nil
	})
	compacted := func(ctx context.Context, args []any) ([]any, error) {
		return nil, fmt.Errorf("reading the inventory: %w", rpctypes.ErrCompacted)
	}
	plain := func(ctx context.Context, args []any) ([]any, error) {
		return nil, errors.New("no such rack")
	}
	badResult := func(ctx context.Context, args []any) ([]any, error) {
		return []any{struct{}{}}, nil
	}
	cfg := engine.Config{Globals: map[string]any{
		"inventory": map[string]any{"hosts": hosts, "compacted": compacted, "plain": plain, "bad": badResult},
	}}
	mustRun(t, cfg, `
local hs, n = inventory.hosts("db", {n = 2})
assert(#hs == 2 and hs[1] == "db-1" and hs[2] == "db-2" and n == 2, "results")

local ok, err = pcall(inventory.compacted)
assert(not ok and err.code == "compacted", "code " .. tostring(err.code))
assert(err.op == "inventory.compacted", "op " .. tostring(err.op))
assert(tostring(err):find("reading the inventory"), tostring(err))

ok, err = pcall(inventory.plain)
assert(not ok and err.code == "internal" and err.message == "no such rack", tostring(err))

ok, err = pcall(inventory.bad)
assert(not ok and err.code == "internal" and tostring(err):find("result 1"), tostring(err))

ok, err = pcall(inventory.hosts, "only one")
assert(not ok and tostring(err):find("want 2 arguments"), tostring(err))
`)
	if !sawCtx {
		t.Error("the function did not get the run's live context")
	}
}

// TestGlobalsEveryRun checks that each run gets the globals afresh: a run
// that changes a table does not change what the next run sees.
func TestGlobalsEveryRun(t *testing.T) {
	e, _, _ := newEngine(t, engine.Config{Globals: map[string]any{"cfg": map[string]any{"n": 1}}})
	for i := 0; i < 2; i++ {
		res, err := e.RunString(context.Background(), "t.lua", `assert(cfg.n == 1, "cfg.n = " .. tostring(cfg.n)); cfg.n = 2`, nil)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}
