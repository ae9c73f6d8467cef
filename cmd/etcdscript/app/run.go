package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/urfave/cli/v2"
	lua "github.com/yuin/gopher-lua"
)

func runCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a Lua script (- reads it from stdin)",
		ArgsUsage: "FILE|- [ARGS...]",
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageErrorf("run needs a script file (or - for stdin)")
			}
			return runScript(c, p, c.Args().First(), c.Args().Tail())
		},
	}
}

func readScript(p Process, file string) ([]byte, error) {
	if file == "-" {
		src, err := io.ReadAll(p.Stdin)
		if err != nil {
			return nil, &ioError{what: "stdin", err: err}
		}
		return src, nil
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, &ioError{what: "script", err: err}
	}
	return src, nil
}

func runScript(c *cli.Context, p Process, file string, args []string) error {
	src, err := readScript(p, file)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(p)
	defer stop()
	cfg, err := clientConfig(c, p)
	if err != nil {
		return err
	}
	if c.Bool(flagEmbedded) {
		eps, stopEtcd, err := startEmbedded(ctx, c)
		if err != nil {
			return err
		}
		defer stopEtcd()
		cfg.Endpoints = eps
	}
	cli, err := client.New(cfg)
	if err != nil {
		return &connectError{err: err}
	}
	defer cli.Close()

	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		fmt.Fprintln(p.Stdout, strings.Join(parts, "\t"))
		return 0
	}))
	L.SetGlobal("etcd", minimalEtcd(L, cli, c.Duration(flagCommandTimeout)))
	fn, err := L.Load(strings.NewReader(string(src)), "@"+file)
	if err != nil {
		return &exitError{code: ExitSyntax, err: err}
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		var ce *client.ConnectError
		if errors.As(err, &ce) {
			return &connectError{err: err}
		}
		return err
	}
	return nil
}

// minimalEtcd is the bootstrap etcd module (put and get) until the engine
// and the bindings provide the whole module of LUA_API.md.
func minimalEtcd(L *lua.LState, cli *client.Client, timeout time.Duration) *lua.LTable {
	call := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), timeout)
	}
	m := L.NewTable()
	m.RawSetString("put", L.NewFunction(func(L *lua.LState) int {
		ctx, cancel := call()
		defer cancel()
		resp, err := cli.Put(ctx, L.CheckString(1), L.CheckString(2))
		if err != nil {
			L.RaiseError("etcd.put: %v", err)
		}
		t := L.NewTable()
		t.RawSetString("revision", lua.LNumber(resp.Header.Revision))
		L.Push(t)
		return 1
	}))
	m.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
		ctx, cancel := call()
		defer cancel()
		resp, err := cli.Get(ctx, L.CheckString(1))
		if err != nil {
			L.RaiseError("etcd.get: %v", err)
		}
		if len(resp.Kvs) == 0 {
			L.Push(lua.LNil)
			return 1
		}
		kv := resp.Kvs[0]
		t := L.NewTable()
		t.RawSetString("key", lua.LString(kv.Key))
		t.RawSetString("value", lua.LString(kv.Value))
		t.RawSetString("mod_revision", lua.LNumber(kv.ModRevision))
		L.Push(t)
		return 1
	}))
	return m
}
