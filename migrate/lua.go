package migrate

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	lua "github.com/yuin/gopher-lua"
)

// LuaExecutor runs migration files in one engine session: the files share
// the engine's libraries, sandbox and writers. While a migration's up or
// down runs, the global etcd is its facade, so a migration that writes
// with etcd.put is fenced too.
type LuaExecutor struct {
	sess *engine.Session
	cli  *client.Client
}

// NewLuaExecutor starts a session of e for the files of dir; cli is the
// client the facade's non-KV calls (leases, watches) use.
func NewLuaExecutor(e *engine.Engine, cli *client.Client, dir string) (*LuaExecutor, error) {
	sess, err := e.NewSession("migrate", dir)
	if err != nil {
		return nil, err
	}
	return &LuaExecutor{sess: sess, cli: cli}, nil
}

// Close ends the session.
func (x *LuaExecutor) Close() error { return x.sess.Close() }

var migrationKeys = map[string]bool{"description": true, "up": true, "down": true, "atomic": true}

// Load runs the file's chunk and checks the table it returns.
func (x *LuaExecutor) Load(f File) (*Migration, error) {
	// A byte order mark is not Lua; editors on some systems add one.
	vals, err := x.sess.Load(context.Background(), f.Path, bytes.TrimPrefix(f.Source, bom))
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", f.Path, err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("migration %s: the file must return a table {up = function(m) ... end}", f.Path)
	}
	t, ok := vals[0].(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("migration %s: the file returns a %s, want a table {up = function(m) ... end}", f.Path, vals[0].Type())
	}
	var unknown []string
	t.ForEach(func(k, _ lua.LValue) {
		if ks, ok := k.(lua.LString); !ok || !migrationKeys[string(ks)] {
			unknown = append(unknown, k.String())
		}
	})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("migration %s: unknown field(s) %s (want description, up, down, atomic)", f.Path, strings.Join(unknown, ", "))
	}
	m := &Migration{File: f, Handle: t}
	if _, ok := t.RawGetString("up").(*lua.LFunction); !ok {
		return nil, fmt.Errorf("migration %s: up must be a function", f.Path)
	}
	switch d := t.RawGetString("down").(type) {
	case *lua.LFunction:
		m.HasDown = true
	case *lua.LNilType:
	default:
		return nil, fmt.Errorf("migration %s: down must be a function, got %s", f.Path, d.Type())
	}
	switch d := t.RawGetString("description").(type) {
	case lua.LString:
		m.Description = string(d)
	case *lua.LNilType:
	default:
		return nil, fmt.Errorf("migration %s: description must be a string, got %s", f.Path, d.Type())
	}
	switch a := t.RawGetString("atomic").(type) {
	case lua.LBool:
		m.Atomic = bool(a)
	case *lua.LNilType:
	default:
		return nil, fmt.Errorf("migration %s: atomic must be a boolean, got %s", f.Path, a.Type())
	}
	return m, nil
}

// Run calls the migration's up or down with its facade: the etcd module
// over kv.
func (x *LuaExecutor) Run(ctx context.Context, m *Migration, direction string, kv client.KV) error {
	t, ok := m.Handle.(*lua.LTable)
	if !ok {
		return fmt.Errorf("migration %s was not loaded by this executor", m.File.Path)
	}
	fn, ok := t.RawGetString(direction).(*lua.LFunction)
	if !ok {
		return fmt.Errorf("migration %s has no %s function", m.File.Path, direction)
	}
	cli := x.cli
	mod := bindings.New(x.sess.Runtime(), bindings.Backend{
		Client: func() (*client.Client, error) { return cli, nil },
		KV:     kv,
	})
	defer mod.Close()
	L := x.sess.L
	facade := mod.Table(L)
	prev := L.GetGlobal("etcd")
	L.SetGlobal("etcd", facade)
	defer L.SetGlobal("etcd", prev)
	_, err := x.sess.Call(ctx, fn, facade)
	return err
}
