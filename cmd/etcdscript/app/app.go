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
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	lua "github.com/yuin/gopher-lua"
)

// Process is the state of the process the command runs in.
type Process struct {
	Args      []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	LookupEnv func(string) (string, bool)
}

// Main runs the command and returns the process exit code.
func Main(p Process) int {
	args := p.Args[1:]
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(p.Stderr, "usage: etcdscript run [--embedded] [--endpoints=HOST:PORT,...] FILE")
		return ExitUsage
	}
	var (
		embedded  bool
		endpoints = []string{"127.0.0.1:2379"}
		file      string
	)
	for _, a := range args[1:] {
		switch {
		case a == "--embedded":
			embedded = true
		case strings.HasPrefix(a, "--endpoints="):
			endpoints = strings.Split(strings.TrimPrefix(a, "--endpoints="), ",")
		case file == "" && !strings.HasPrefix(a, "--"):
			file = a
		default:
			fmt.Fprintf(p.Stderr, "Error: unexpected argument %q\n", a)
			return ExitUsage
		}
	}
	if file == "" {
		fmt.Fprintln(p.Stderr, "Error: run needs a script file")
		return ExitUsage
	}
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(p.Stderr, "Error: %v\n", err)
		return ExitIO
	}
	ctx := context.Background()
	if embedded {
		cl, err := etcdtest.Start(ctx, etcdtest.Options{})
		if err != nil {
			fmt.Fprintf(p.Stderr, "Error: embedded etcd: %v\n", err)
			return ExitConnect
		}
		defer cl.Close()
		endpoints = cl.Endpoints()
	}
	cli, err := client.New(client.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second})
	if err != nil {
		fmt.Fprintf(p.Stderr, "Error: %v\n", err)
		return ExitConnect
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
	L.SetGlobal("etcd", minimalEtcd(L, cli))
	fn, err := L.Load(strings.NewReader(string(src)), "@"+file)
	if err != nil {
		fmt.Fprintf(p.Stderr, "Error: %v\n", err)
		return ExitSyntax
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		var ce *client.ConnectError
		if errors.As(err, &ce) {
			fmt.Fprintf(p.Stderr, "Error: %v\n", err)
			return ExitConnect
		}
		fmt.Fprintf(p.Stderr, "Error: %v\n", err)
		return ExitScriptError
	}
	return ExitOK
}

// minimalEtcd is the bootstrap etcd module (put and get) until the bindings
// package provides the whole module of LUA_API.md.
func minimalEtcd(L *lua.LState, cli *client.Client) *lua.LTable {
	call := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 5*time.Second)
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
		t.RawSetString("create_revision", lua.LNumber(kv.CreateRevision))
		t.RawSetString("version", lua.LNumber(kv.Version))
		L.Push(t)
		return 1
	}))
	return m
}
