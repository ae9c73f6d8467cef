package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/luart"
)

// ModuleConfig configures the Lua module of LuaModule.
type ModuleConfig struct {
	// Client is the cluster the migrations run against; required.
	Client *client.Client
	// Engine configures the engine that runs the migration files; its
	// Client is set to Client.
	Engine engine.Config
	// BaseDir is where a relative migrations directory is found (a test
	// file's own directory); "" means the working directory.
	BaseDir string
	// Log receives progress lines; nil discards.
	Log io.Writer
}

// LuaModule returns the loader of the Lua module "migrate", with which a
// script (a test file of `etcdscript test`) applies and reverts a
// migrations directory against its cluster:
//
//	migrate.up(dir [, {set=, prefix=, to=}])     -> {{version=, name=, revision=}...}
//	migrate.down(dir [, {set=, prefix=, to=, all=}]) -> the same, highest first
//	migrate.status(dir [, {set=, prefix=}])      -> {head=, dirty=, clean=, next=, migrations={{version=, name=, status=}...}}
//
// up and down take the lock and fence their writes as `etcdscript
// migrate` does; down without to reverts one step. A failure raises an
// error object whose op is migrate.up, migrate.down or migrate.status.
func LuaModule(cfg ModuleConfig) lua.LGFunction {
	return func(L *lua.LState) int {
		m := L.CreateTable(0, 3)
		m.RawSetString("up", L.NewFunction(func(L *lua.LState) int {
			return moduleCall(L, cfg, "migrate.up", func(ctx context.Context, r *Runner, o luaOptions) (any, error) {
				return r.Up(ctx, UpOptions{To: o.to})
			})
		}))
		m.RawSetString("down", L.NewFunction(func(L *lua.LState) int {
			return moduleCall(L, cfg, "migrate.down", func(ctx context.Context, r *Runner, o luaOptions) (any, error) {
				return r.Down(ctx, DownOptions{To: o.to, All: o.all})
			})
		}))
		m.RawSetString("status", L.NewFunction(func(L *lua.LState) int {
			return moduleCall(L, cfg, "migrate.status", func(ctx context.Context, r *Runner, _ luaOptions) (any, error) {
				return r.Status(ctx)
			})
		}))
		L.Push(m)
		return 1
	}
}

// luaOptions are the options of the module's functions.
type luaOptions struct {
	set, prefix string
	to          int64
	all         bool
}

var luaOptionKeys = map[string]map[string]bool{
	"migrate.up":     {"set": true, "prefix": true, "to": true},
	"migrate.down":   {"set": true, "prefix": true, "to": true, "all": true},
	"migrate.status": {"set": true, "prefix": true},
}

// moduleCall checks the arguments of op, runs fn on a Runner for the
// directory and returns its result as Lua data.
func moduleCall(L *lua.LState, cfg ModuleConfig, op string, fn func(context.Context, *Runner, luaOptions) (any, error)) int {
	rt := engine.RuntimeOf(L)
	fail := func(err error) {
		if rt == nil {
			L.RaiseError("%s: %v", op, err)
		}
		rt.RaiseErr(L, op, err)
	}
	dir, ok := L.Get(1).(lua.LString)
	if !ok || dir == "" {
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "argument 1 (dir): a migrations directory expected, got %s", L.Get(1).Type()))
	}
	var o luaOptions
	switch t := L.Get(2).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		var bad error
		t.ForEach(func(k, v lua.LValue) {
			if bad != nil {
				return
			}
			name, _ := k.(lua.LString)
			if !luaOptionKeys[op][string(name)] {
				bad = fmt.Errorf("argument 2: unknown option %s", k.String())
				return
			}
			switch name {
			case "set", "prefix":
				s, isStr := v.(lua.LString)
				if !isStr {
					bad = fmt.Errorf("option %s: a string expected, got %s", name, v.Type())
				}
				if name == "set" {
					o.set = string(s)
				} else {
					o.prefix = string(s)
				}
			case "to":
				n, isNum := v.(lua.LNumber)
				if !isNum || n < 0 || float64(n) != float64(int64(n)) {
					bad = fmt.Errorf("option to: a version (a whole number >= 0) expected, got %s", v.String())
				}
				o.to = int64(n)
			case "all":
				o.all = lua.LVAsBool(v)
			}
		})
		if bad != nil {
			luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "%v", bad))
		}
	default:
		luart.Raise(L, luart.Errorf(luart.CodeInvalidArgument, op, "", "argument 2 (opts): a table expected, got %s", t.Type()))
	}
	path := string(dir)
	if !filepath.IsAbs(path) && cfg.BaseDir != "" {
		path = filepath.Join(cfg.BaseDir, path)
	}
	ctx := context.Background()
	if rt != nil {
		ctx = rt.Context()
	}
	out, err := runModule(ctx, cfg, path, o, fn)
	if err != nil {
		fail(err)
	}
	lv, err := engine.LuaValue(L, out)
	if err != nil {
		fail(err)
	}
	L.Push(lv)
	return 1
}

// runModule makes a Runner for dir, runs fn and returns its result as
// plain data (the JSON form of the Go types, which the CLI's -w json
// shows too).
func runModule(ctx context.Context, cfg ModuleConfig, dir string, o luaOptions, fn func(context.Context, *Runner, luaOptions) (any, error)) (any, error) {
	ecfg := cfg.Engine
	ecfg.Client = cfg.Client
	ecfg.Connect = nil
	e, err := engine.New(ecfg)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	x, err := NewLuaExecutor(e, cfg.Client, dir)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	r, err := New(Config{Client: cfg.Client, Dir: dir, Set: o.set, Prefix: o.prefix, Exec: x, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	res, err := fn(ctx, r, o)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	var data any
	if err := json.Unmarshal(b, &data); err != nil {
		return nil, err
	}
	if data == nil {
		data = []any{}
	}
	return data, nil
}
