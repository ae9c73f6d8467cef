package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"log"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// A Go program embeds the engine: it gives scripts its client, a module of
// its own written in Go, and writers that capture what they print.
func ExampleNew() {
	ctx := context.Background()

	// An etcd server inside this process; a real program dials its cluster.
	cluster, err := etcdtest.Start(ctx, etcdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	cli, err := client.New(client.Config{Endpoints: cluster.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()

	// The host's own module: require("inventory").
	inventory := func(L *lua.LState) int {
		m := L.NewTable()
		m.RawSetString("hosts", L.NewFunction(func(L *lua.LState) int {
			hosts := L.NewTable()
			for _, h := range []string{"db-1", "db-2"} {
				hosts.Append(lua.LString(h))
			}
			L.Push(hosts)
			return 1
		}))
		L.Push(m)
		return 1
	}

	var out bytes.Buffer
	e, err := engine.New(engine.Config{
		Client:  cli,
		Stdout:  &out,
		Modules: map[string]lua.LGFunction{"inventory": inventory},
		Timeout: time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	res, err := e.RunString(ctx, "register.lua", `
local inventory = require("inventory")
local role = ...
for _, host in ipairs(inventory.hosts()) do
  etcd.put("hosts/" .. host, role)
end
local r = etcd.range("hosts/", {prefix = true})
for _, kv in ipairs(r.kvs) do
  print(kv.key, kv.value)
end
return r.count
`, []string{"replica"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(out.String(), "\t", " "))
	fmt.Println("exit code", res.ExitCode, "returned", res.Values)
	// Output:
	// hosts/db-1 replica
	// hosts/db-2 replica
	// exit code 0 returned [2]
}

// A script that fails gives a ScriptError: `FILE:LINE: message`, its kind
// and the exit code the CLI would use.
func ExampleScriptError() {
	e, err := engine.New(engine.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	res, err := e.RunString(context.Background(), "check.lua", `
local limit = tonumber(...)
if limit > 10 then
  error("limit too high: " .. limit)
end
`, []string{"12"})
	if se, ok := engine.AsScriptError(err); ok {
		fmt.Println(se)
		fmt.Println(se.Kind, se.Line, res.ExitCode)
	}
	// Output:
	// check.lua:4: limit too high: 12
	// runtime 4 1
}

// TestEmbeddingExampleIsDocumented: the README's embedding example is
// attached to New, so that the documentation of New shows it; an example
// named plain Example is attached to nothing a reader looks up.
func TestEmbeddingExampleIsDocumented(t *testing.T) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range []string{"example_test.go", "engine.go"} {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/etcdscript/etcdscript/engine")
	if err != nil {
		t.Fatal(err)
	}
	funcs := pkg.Funcs
	for _, typ := range pkg.Types {
		funcs = append(funcs, typ.Funcs...) // New, returning *Engine, is listed with Engine
	}
	for _, f := range funcs {
		if f.Name == "New" {
			if len(f.Examples) == 0 {
				t.Fatal("engine.New has no example: name the embedding example ExampleNew")
			}
			return
		}
	}
	t.Fatal("engine.New not found in engine.go")
}
